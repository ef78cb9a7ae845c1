#!/usr/bin/env bash
# End-to-end check of the containerized stack (docker-compose.yml, Dockerfile.api, Dockerfile.worker)
# against a real Docker engine:
#   build both images (timed, sizes reported) -> up with 3 workers (cold start to healthy timed)
#   -> POST /predict answers natural-language-processing -> concurrent requests are spread over
#   more than one worker -> scale 3 -> 1 -> 3 -> SIGTERM one worker under load, no request fails
#   -> Redis unreachable from the frontend network -> containers run as non-root -> model rollout
#   to stores/model-b.dvc and rollback under load (scripts/rollout.sh) -> summary.
# The stack always goes away at the end (down -v), with every container's logs dumped on failure.
#
#   npm run test:compose          (or: bash scripts/compose-e2e.sh)
#
# Needs: docker (+ Compose v2 `docker compose`, or v1 `docker-compose`), curl, node on the host.
# Environment (all optional):
#   E2E_WORKERS=3                 replicas to run
#   E2E_SPREAD_REQUESTS=120       requests of the distribution check
#   E2E_SPREAD_CONCURRENCY=8      clients sending them
#   E2E_KILL_LOAD_SECONDS=10      duration of the load during which one worker gets SIGTERM
#   E2E_KILL_LOAD_CONCURRENCY=8   concurrent clients of that load (capped at E2E_KILL_LOAD_MAX requests)
#   E2E_KILL_LOAD_MAX=5000
#   E2E_ROLLOUT_LOAD_CONCURRENCY=6  clients (3 texts a request) during the model rollout and rollback
#   E2E_ROLLOUT_LOAD_MAX=100000
#   E2E_BUILD_TIMEOUT=1800        seconds allowed for `compose build`
#   E2E_READY_TIMEOUT=240         seconds allowed for the stack to become healthy
#   E2E_KEEP=1                    leave the stack running (no down -v) for debugging
#   E2E_IMAGE_TAG=e2e             tag of the built images (tagserve-api:<tag>, tagserve-worker:<tag>);
#                                 they are kept afterwards as the build cache of the next run
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WORKERS=${E2E_WORKERS:-3}
SPREAD_REQUESTS=${E2E_SPREAD_REQUESTS:-120}
SPREAD_CONCURRENCY=${E2E_SPREAD_CONCURRENCY:-8}
KILL_LOAD_SECONDS=${E2E_KILL_LOAD_SECONDS:-10}
KILL_LOAD_CONCURRENCY=${E2E_KILL_LOAD_CONCURRENCY:-8}
KILL_LOAD_MAX=${E2E_KILL_LOAD_MAX:-5000}
ROLLOUT_LOAD_CONCURRENCY=${E2E_ROLLOUT_LOAD_CONCURRENCY:-6}
ROLLOUT_LOAD_MAX=${E2E_ROLLOUT_LOAD_MAX:-100000}
BUILD_TIMEOUT=${E2E_BUILD_TIMEOUT:-1800}
READY_TIMEOUT=${E2E_READY_TIMEOUT:-240}
IMAGE_TAG=${E2E_IMAGE_TAG:-e2e}
EXPECTED_TAG=natural-language-processing
PREDICT_BODY='{"texts":[{"text":"Transfer learning with transformers for text classification."}]}'

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
FAILURES=()
SUMMARY=()
log() { printf '[compose-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
pass() { log "PASS: $*"; }
fail() { log "FAIL: $*"; FAILURES+=("$*"); }
die() { fail "$*"; exit 1; }
note() { SUMMARY+=("$*"); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1000000 }'; }

for tool in docker curl node timeout; do
  command -v "$tool" >/dev/null 2>&1 || { echo "compose-e2e: '$tool' is required" >&2; exit 2; }
done
docker info >/dev/null 2>&1 || { echo "compose-e2e: the Docker engine is not reachable (docker info failed)" >&2; exit 2; }
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "compose-e2e: neither 'docker compose' nor 'docker-compose' is available" >&2
  exit 2
fi
if [ ! -f stores/model.dvc ] || [ ! -d stores/blob ]; then
  echo "compose-e2e: stores/model.dvc + stores/blob (the model) are missing" >&2
  exit 2
fi

PROJECT="tagserve_e2e_$$"
TMP=$(mktemp -d)
API_PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
API="http://127.0.0.1:${API_PORT}"
# Settings for this run only: its own env file (the developer's .env is not read) and exported,
# because exported variables win over any env file in both Compose versions.
export API_PORT
REDIS_PASSWORD="e2e-$(node -p "require('crypto').randomBytes(12).toString('hex')")"
export REDIS_PASSWORD
export WORKER_LOG_LEVEL=debug   # one "job done" line per job: per-worker counts come from the logs
export TAGSERVE_IMAGE=tagserve TAGSERVE_TAG="$IMAGE_TAG"
printf 'API_PORT=%s\nREDIS_PASSWORD=%s\nWORKER_LOG_LEVEL=%s\nTAGSERVE_IMAGE=%s\nTAGSERVE_TAG=%s\n' \
  "$API_PORT" "$REDIS_PASSWORD" "$WORKER_LOG_LEVEL" "$TAGSERVE_IMAGE" "$TAGSERVE_TAG" >"$TMP/e2e.env"
API_IMAGE="${TAGSERVE_IMAGE}-api:${TAGSERVE_TAG}"
WORKER_IMAGE="${TAGSERVE_IMAGE}-worker:${TAGSERVE_TAG}"

# compose <timeout-seconds> <args...>
compose() {
  local limit=$1
  shift
  timeout --kill-after=10 "$limit" "${COMPOSE[@]}" -p "$PROJECT" -f docker-compose.yml --env-file "$TMP/e2e.env" "$@"
}

# Running containers of a service (both Compose versions label them the same way).
containers() {
  docker ps -q --no-trunc --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1"
}
all_containers() { docker ps -aq --no-trunc --filter "label=com.docker.compose.project=$PROJECT"; }
cname() { docker inspect -f '{{.Name}}' "$1" | sed 's#^/##'; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo gone; }
# Requests a worker answered: it logs one "job done" line per request a job carries.
requests_done() { docker logs "$1" 2>&1 | grep -c '"job done"' || true; }

dump_logs() {
  log "---- compose ps ----"
  compose 60 ps || true
  local c
  for c in $(all_containers); do
    log "---- $(cname "$c") ($(health "$c")) last 80 log lines ----"
    docker logs --tail 80 "$c" 2>&1 || true
    docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}health: exit={{.ExitCode}} {{.Output}}{{end}}{{end}}' "$c" 2>/dev/null | tail -3 || true
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  jobs -p | xargs -r kill 2>/dev/null || true
  if [ "$rc" -ne 0 ] || [ "${#FAILURES[@]}" -gt 0 ]; then
    dump_logs
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    log "E2E_KEEP=1: stack left running: ${COMPOSE[*]} -p $PROJECT down -v"
  else
    log "removing the stack (down -v)"
    compose 180 down -v --remove-orphans >/dev/null 2>&1 || compose 180 down -v --remove-orphans || true
  fi
  rm -rf "$TMP"
  if [ "${#SUMMARY[@]}" -gt 0 ]; then
    echo
    echo "================ compose e2e summary (${COMPOSE[*]}, project $PROJECT) ================"
    printf '  %s\n' "${SUMMARY[@]}"
  fi
  if [ "${#FAILURES[@]}" -gt 0 ]; then
    echo "  FAILED checks (${#FAILURES[@]}):"
    printf '    - %s\n' "${FAILURES[@]}"
    [ "$rc" -ne 0 ] || rc=1
  elif [ "$rc" -eq 0 ]; then
    echo "  all checks passed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until exactly <n> workers run and every container of the project is healthy.
wait_healthy() {
  local n=$1 limit=$2 start=$SECONDS c status bad workers
  while :; do
    bad=""
    workers=$(containers worker | wc -l)
    [ "$workers" -eq "$n" ] || bad="$workers/$n workers running"
    for c in $(containers redis) $(containers api) $(containers worker); do
      status=$(health "$c")
      [ "$status" = healthy ] || bad="$bad $(cname "$c")=$status"
    done
    [ -n "$(containers api)" ] && [ -n "$(containers redis)" ] || bad="$bad (api or redis not running)"
    [ -z "$bad" ] && return 0
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      fail "not healthy within ${limit}s:$bad"
      return 1
    fi
    sleep 1
  done
}

# Waits until /health/ready is 200 and reports <n> workers.
wait_ready() {
  local n=$1 limit=$2 start=$SECONDS body=""
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    body=$(curl -s -m 5 "$API/health/ready" || true)
    if node -e 'const j=JSON.parse(process.argv[1]); process.exit(j.status==="ok" && j.details.workers.count===Number(process.argv[2]) ? 0 : 1)' "$body" "$n" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  fail "/health/ready did not report $n workers within ${limit}s (last: ${body:-no answer})"
  return 1
}

# Prints the predicted tag of the example text (empty on any failure).
predict_tag() {
  curl -s -m 30 -X POST "$API/predict" -H 'Content-Type: application/json' -d "$PREDICT_BODY" |
    node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{try{console.log(JSON.parse(d).data.predictions[0].predicted_tag)}catch{console.log("")}})'
}

check_predict() {
  local tag
  tag=$(predict_tag) || true
  if [ "$tag" = "$EXPECTED_TAG" ]; then pass "POST /predict ($1) -> $tag"; else fail "POST /predict ($1) -> '${tag}', expected $EXPECTED_TAG"; fi
}

# Bounded load generator: node load.js <url> <max requests> <concurrency> <max seconds>
# Prints one JSON line: sent, ok (200 with one prediction), failed, status counts, latencies.
cat >"$TMP/load.js" <<'EOF'
const [url, maxRequests, concurrency, maxSeconds] = process.argv.slice(2);
const deadline = Date.now() + Number(maxSeconds) * 1000;
const topics = ['transformers for text classification', 'object detection with convolutional networks',
  'serving models with kubernetes and CI/CD', 'a curated list of resources', 'graph neural networks',
  'speech recognition with attention', 'monitoring data drift in production', 'image segmentation'];
// LOAD_TEXTS=k: k texts a request, from the fixed topics (so each text's answer can be compared
// across requests); LOAD_TRACE=<file>: one "<sent at ms> <model version>" line per answer;
// LOAD_STOP_FILE=<file>: clients stop once it exists.
const textsPerRequest = Number(process.env.LOAD_TEXTS || 1);
const stopFile = process.env.LOAD_STOP_FILE;
const fs = require('fs');
let sent = 0, ok = 0, failed = 0, headerMismatch = 0, mixed = 0;
const codes = {}, latencies = [], versions = {}, trace = [], reference = new Map();
const started = Date.now();
// Largest log-probability gap between two answers for one text (padding moves float32 logits by ~1e-6).
const logGap = (a, b) => Math.max(...Object.keys(a).map((k) => Math.abs(Math.log(a[k]) - Math.log(b[k]))));
async function one(i) {
  const t0 = performance.now();
  const sentAt = Date.now();
  const texts = textsPerRequest === 1 ? [`Request ${i}: ${topics[i % topics.length]}.`]
    : Array.from({ length: textsPerRequest }, (_, j) => `${topics[(i + j) % topics.length]}.`);
  let code;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ texts: texts.map((text) => ({ text })) }),
      signal: AbortSignal.timeout(60000),
    });
    const body = await res.json().catch(() => null);
    code = String(res.status);
    if (res.status === 200 && body?.data?.predictions?.length === texts.length) ok++; else failed++;
    const version = body?.data?.model_version;
    if (res.status === 200) {
      versions[version] = (versions[version] || 0) + 1;
      trace.push(`${sentAt} ${version}`);
      if (res.headers.get('x-model-version') !== version) headerMismatch++;
      // A request answered by two versions would give some text probabilities of the other version.
      let consistent = true;
      for (const p of body.data.predictions) {
        const key = `${version} ${p.input_text}`;
        const ref = reference.get(key);
        if (!ref) reference.set(key, p.predicted_probabilities);
        else if (logGap(ref, p.predicted_probabilities) > 1e-3) consistent = false;
      }
      if (!consistent) mixed++;
    }
  } catch (err) {
    code = err.name || 'error';
    failed++;
  }
  codes[code] = (codes[code] || 0) + 1;
  latencies.push(performance.now() - t0);
}
async function client() {
  while (sent < Number(maxRequests) && Date.now() < deadline && !(stopFile && fs.existsSync(stopFile))) await one(sent++);
}
Promise.all(Array.from({ length: Number(concurrency) }, client)).then(() => {
  latencies.sort((a, b) => a - b);
  const q = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] || 0);
  const seconds = (Date.now() - started) / 1000;
  if (process.env.LOAD_TRACE) fs.writeFileSync(process.env.LOAD_TRACE, trace.join('\n') + '\n');
  console.log(JSON.stringify({ sent, ok, failed, codes, p50: q(0.5), p95: q(0.95), max: q(1),
    seconds: Math.round(seconds * 10) / 10, rps: Math.round(sent / seconds), versions, headerMismatch, mixed }));
});
EOF
# load <max requests> <concurrency> <max seconds>
load() { timeout $(($3 + 90)) node "$TMP/load.js" "$API/predict" "$1" "$2" "$3" || echo '{}'; }
# field <json> <key>: a value of load()'s result ("?" if absent)
field() { node -e 'let v;try{v=JSON.parse(process.argv[1])[process.argv[2]]}catch{}; console.log(v===undefined?"?":typeof v==="object"?JSON.stringify(v):v)' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# 1. Build
# ---------------------------------------------------------------------------------------------
log "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || "${COMPOSE[@]}" version | head -1)), project $PROJECT, API port $API_PORT"
log "building $API_IMAGE and $WORKER_IMAGE"
t=$(now)
compose "$BUILD_TIMEOUT" build || die "compose build failed (or took more than ${BUILD_TIMEOUT}s)"
BUILD_S=$(elapsed "$t")
API_SIZE=$(docker image inspect -f '{{.Size}}' "$API_IMAGE")
WORKER_SIZE=$(docker image inspect -f '{{.Size}}' "$WORKER_IMAGE")
BASE_IMAGE=node:20-bookworm-slim
BASE_SIZE=$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" 2>/dev/null || echo 0)
pass "images built in ${BUILD_S}s: $API_IMAGE $(mb "$API_SIZE"), $WORKER_IMAGE $(mb "$WORKER_SIZE")"
note "build (both images): ${BUILD_S}s"
note "image sizes: $API_IMAGE $(mb "$API_SIZE"), $WORKER_IMAGE $(mb "$WORKER_SIZE") (base $BASE_IMAGE $(mb "$BASE_SIZE"))"

# ---------------------------------------------------------------------------------------------
# 2. Cold start with N workers
# ---------------------------------------------------------------------------------------------
log "starting the stack with $WORKERS workers"
t=$(now)
compose 300 up -d --scale "worker=$WORKERS" || die "compose up failed"
wait_healthy "$WORKERS" "$READY_TIMEOUT" || die "stack did not become healthy"
HEALTHY_S=$(elapsed "$t")
wait_ready "$WORKERS" 60 || die "api not ready"
READY_S=$(elapsed "$t")
pass "cold start: all containers healthy after ${HEALTHY_S}s, /health/ready with $WORKERS workers after ${READY_S}s"
note "cold start (up -> all healthy / ready with $WORKERS workers): ${HEALTHY_S}s / ${READY_S}s"

check_predict "cold stack"

# ---------------------------------------------------------------------------------------------
# 3. Jobs are spread over the workers
# ---------------------------------------------------------------------------------------------
declare -A BEFORE=()
for c in $(containers worker); do BEFORE[$c]=$(requests_done "$c"); done
# Clients sending one request after another: a single burst of simultaneous requests would be
# packed by the gateway into one job (up to MAX_TEXTS texts), which only one worker can take.
result=$(load "$SPREAD_REQUESTS" "$SPREAD_CONCURRENCY" 60)
sleep 1 # let the last "job done" lines reach the log driver
busy=0
counts=""
for c in $(containers worker); do
  n=$(( $(requests_done "$c") - ${BEFORE[$c]:-0} ))
  counts="$counts $(cname "$c")=$n"
  [ "$n" -gt 0 ] && busy=$((busy + 1))
done
spread_failed=$(field "$result" failed)
log "spread load: $result"
if [ "$spread_failed" = 0 ] && [ "$(field "$result" sent)" = "$SPREAD_REQUESTS" ]; then
  pass "$SPREAD_REQUESTS requests from $SPREAD_CONCURRENCY clients, all 200"
else
  fail "$SPREAD_REQUESTS requests from $SPREAD_CONCURRENCY clients: $result"
fi
if [ "$busy" -gt 1 ]; then pass "requests answered by $busy workers:$counts"; else fail "requests answered by only $busy worker(s):$counts"; fi
note "$SPREAD_REQUESTS requests from $SPREAD_CONCURRENCY clients: sent $(field "$result" sent), failed $spread_failed, p50 $(field "$result" p50) ms, p95 $(field "$result" p95) ms; requests per worker:$counts"

# Metrics as config/prometheus.yml scrapes them: the api's /metrics, and the `worker` service name
# resolving to replicas that serve their own /metrics inside the backend network.
api_metrics=$(curl -fsS "$API/metrics" || true)
if grep -q '^tagserve_workers '"$WORKERS"'$' <<<"$api_metrics"; then pass "api /metrics reports $WORKERS workers"; else fail "api /metrics: $(grep '^tagserve_workers' <<<"$api_metrics")"; fi
api_container=$(containers api | head -1)
worker_metrics=$(docker exec "$api_container" node -e "fetch('http://worker:9464/metrics').then(r=>r.text()).then(t=>console.log(t)).catch(e=>{console.error(e.message);process.exit(1)})" 2>&1 || true)
if grep -q '^tagserve_batch_size_count' <<<"$worker_metrics"; then pass "worker /metrics reachable as worker:9464 ($(grep '^tagserve_batch_size_count' <<<"$worker_metrics"))"; else fail "worker /metrics not reachable as worker:9464: $(head -c 300 <<<"$worker_metrics")"; fi

# ---------------------------------------------------------------------------------------------
# 4. Scale to 1 and back
# ---------------------------------------------------------------------------------------------
log "scaling to 1 worker"
t=$(now)
compose 180 up -d --scale worker=1 --no-recreate || fail "scale to 1 failed"
wait_healthy 1 120 && wait_ready 1 60 && pass "scaled to 1 worker in $(elapsed "$t")s"
check_predict "1 worker"
log "scaling back to $WORKERS workers"
t=$(now)
compose 180 up -d --scale "worker=$WORKERS" --no-recreate || fail "scale to $WORKERS failed"
wait_healthy "$WORKERS" 180 && wait_ready "$WORKERS" 60 && SCALE_UP_S=$(elapsed "$t") &&
  pass "scaled back to $WORKERS workers, healthy after ${SCALE_UP_S}s"
check_predict "$WORKERS workers after rescale"
note "scale $WORKERS -> 1 -> $WORKERS: new workers healthy ${SCALE_UP_S:-?}s after up"

# ---------------------------------------------------------------------------------------------
# 5. SIGTERM one worker under load: every request must still succeed
# ---------------------------------------------------------------------------------------------
victim=$(containers worker | head -1)
victim_name=$(cname "$victim")
declare -A BEFORE=()
for c in $(containers worker); do BEFORE[$c]=$(requests_done "$c"); done
survivors=$(containers worker | grep -v "^$victim\$" || true)
log "load for ${KILL_LOAD_SECONDS}s ($KILL_LOAD_CONCURRENCY clients); SIGTERM to $victim_name after 3s"
load "$KILL_LOAD_MAX" "$KILL_LOAD_CONCURRENCY" "$KILL_LOAD_SECONDS" >"$TMP/kill-load.json" &
load_pid=$!
(timeout 120 docker wait "$victim" >"$TMP/victim-exit" 2>/dev/null || echo timeout >"$TMP/victim-exit") &
wait_pid=$!
sleep 3
kill_ms=$(date +%s%3N)
docker kill -s SIGTERM "$victim" >/dev/null
wait "$load_pid" || true
wait "$wait_pid" || true
result=$(cat "$TMP/kill-load.json")
victim_exit=$(cat "$TMP/victim-exit")
log "load during SIGTERM: $result"
kill_sent=$(field "$result" sent)
kill_failed=$(field "$result" failed)
if [ "$kill_failed" = 0 ] && [ "$kill_sent" != 0 ] && [ "$kill_sent" != "?" ]; then
  pass "SIGTERM under load: $kill_sent requests, 0 failed"
else
  fail "SIGTERM under load: $kill_failed of $kill_sent requests failed: $(field "$result" codes)"
fi
if [ "$victim_exit" = 0 ]; then
  pass "$victim_name exited 0 after SIGTERM (drained)"
else
  fail "$victim_name exit status after SIGTERM: $victim_exit"
fi
# Drain evidence: jobs the victim finished after the signal (its JSON log lines carry timestamps)
# and how long it took to exit.
drained=$(docker logs "$victim" 2>&1 | node -e 'let n=0;require("readline").createInterface({input:process.stdin})
  .on("line",l=>{try{const j=JSON.parse(l);if(j.message&&j.message.msg==="job done"&&j.timestamp>=Number(process.argv[1]))n++}catch{}})
  .on("close",()=>console.log(n))' "$kill_ms" || echo "?")
exit_after=$(node -e 'const t=Date.parse(process.argv[1]);console.log(isNaN(t)?"?":((t-Number(process.argv[2]))/1000).toFixed(1))' \
  "$(docker inspect -f '{{.State.FinishedAt}}' "$victim" 2>/dev/null)" "$kill_ms" || echo "?")
log "$victim_name answered $drained requests after SIGTERM and exited ${exit_after}s after it"
kcounts="$victim_name(SIGTERM)=$(( $(requests_done "$victim") - ${BEFORE[$victim]:-0} ))"
for c in $survivors; do kcounts="$kcounts $(cname "$c")=$(( $(requests_done "$c") - ${BEFORE[$c]:-0} ))"; done
note "SIGTERM to 1 of $WORKERS workers during ${KILL_LOAD_SECONDS}s of load: sent $kill_sent, failed $kill_failed, $(field "$result" rps) req/s, p50 $(field "$result" p50) ms, p95 $(field "$result" p95) ms, max $(field "$result" max) ms; killed worker: exit $victim_exit after ${exit_after}s, $drained requests answered after SIGTERM"
note "requests per worker during that load: $kcounts"
check_predict "after SIGTERM"

# ---------------------------------------------------------------------------------------------
# 6. Network isolation: Redis is on the internal backend network only
# ---------------------------------------------------------------------------------------------
redis_c=$(containers redis)
redis_ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$redis_c")
# Connects, sends PING, prints the first reply line; exit 0 = connected.
probe_js='const s=require("net").connect({host:process.env.H,port:6379,timeout:3000});
s.on("connect",()=>s.write("PING\r\n"));
s.on("data",d=>{console.log("connected, reply "+String(d).trim());process.exit(0)});
s.on("timeout",()=>{console.log("timeout");process.exit(2)});
s.on("error",e=>{console.log(e.code||e.message);process.exit(2)});'
probe() { timeout 60 docker run --rm --network "${PROJECT}_$1" -e "H=$2" --entrypoint node "$API_IMAGE" -e "$probe_js" 2>&1; }
isolation=""
for target in redis "$redis_ip"; do
  if out=$(probe frontend "$target"); then
    fail "Redis reachable from the frontend network at $target:6379 ($out)"
    isolation="$isolation from frontend at $target: REACHABLE ($out);"
  else
    pass "Redis not reachable from the frontend network at $target:6379 ($out)"
    isolation="$isolation from frontend at $target: unreachable ($out);"
  fi
done
if out=$(probe backend redis); then
  pass "control: Redis reachable from the backend network ($out)"
  case "$out" in *NOAUTH*) pass "Redis requires the password" ;; *) fail "Redis answered without a password: $out" ;; esac
  isolation="$isolation from backend: reachable ($out)"
else
  fail "control: Redis not reachable from the backend network either ($out): the isolation check proves nothing"
  isolation="$isolation from backend: unreachable ($out), so the check proves nothing"
fi
note "Redis$isolation"

# ---------------------------------------------------------------------------------------------
# 7. Non-root, nothing published but the API
# ---------------------------------------------------------------------------------------------
uids=""
as_root=""
for c in $(containers api) $(containers worker); do
  uid=$(docker exec "$c" id -u)
  uids="$uids $(cname "$c")=$uid"
  [ "$uid" != 0 ] || as_root="$as_root $(cname "$c")"
done
redis_uid=$(docker exec "$redis_c" awk '/^Uid:/ { print $2 }' /proc/1/status)
[ "$redis_uid" != 0 ] || as_root="$as_root redis-server"
uids="$uids $(cname "$redis_c")(redis-server)=$redis_uid"
if [ -z "$as_root" ]; then pass "non-root uids:$uids"; else fail "running as root:$as_root (uids:$uids)"; fi
published=""
for c in $(containers worker) "$redis_c"; do
  [ -z "$(docker port "$c")" ] || published="$published $(cname "$c")"
done
if [ -z "$published" ]; then pass "no published ports on workers and redis"; else fail "published ports on:$published"; fi
note "container uids:$uids"

# ---------------------------------------------------------------------------------------------
# 8. Model rollout and rollback under load (scripts/rollout.sh, as a user runs it)
# ---------------------------------------------------------------------------------------------
VERSION_A=$(awk '$1 == "-" && $2 == "md5:" { print $3; exit }' stores/model.dvc)
VERSION_B=$(awk '$1 == "-" && $2 == "md5:" { print $3; exit }' stores/model-b.dvc)
rollout_n=$(containers worker | wc -l)
ms() { date +%s%3N; }
# rollout <pointer> <output file>: prints the seconds it took; its exit status is rollout.sh's.
rollout() {
  local t0=$SECONDS rc=0
  API_URL=$API timeout 600 scripts/rollout.sh -p "$PROJECT" --env-file "$TMP/e2e.env" "$1" >"$2" 2>&1 || rc=$?
  sed 's/^/    /' "$2" >&2
  echo $((SECONDS - t0))
  return "$rc"
}
# rollout_checks <output file> <from> <to> <label>
rollout_checks() {
  local out=$1 from=$2 to=$3 label=$4 during after exits
  during=$(sed -n 's/.*serving during the switch: //p' "$out")
  after=$(sed -n 's/.*serving after: //p' "$out")
  exits=$(grep -c 'exited 0 (drained: true)' "$out" || true)
  if [[ "$during" == *"$from="* && "$during" == *"$to="* ]]; then pass "$label: /performance listed both versions during the switch ($during)"; else fail "$label: /performance during the switch: '$during'"; fi
  if [[ "$after" == "$to=$rollout_n" ]]; then pass "$label: /performance lists only $to after ($after)"; else fail "$label: /performance after: '$after', expected $to=$rollout_n"; fi
  if [ "$exits" = "$rollout_n" ]; then pass "$label: the $rollout_n old workers drained and exited 0"; else fail "$label: $exits of $rollout_n old workers drained and exited 0"; fi
  note "$label: during the switch /performance listed: $during; after: $after; old workers drained and exited 0: $exits of $rollout_n"
}
log "rollout under load: $rollout_n workers of $VERSION_A -> $VERSION_B, then back"
rm -f "$TMP/stop-load"
LOAD_TEXTS=3 LOAD_TRACE="$TMP/rollout-trace" LOAD_STOP_FILE="$TMP/stop-load" \
  load "$ROLLOUT_LOAD_MAX" "$ROLLOUT_LOAD_CONCURRENCY" 900 >"$TMP/rollout-load.json" &
load_pid=$!
sleep 3
out_start=$(ms)
out_s=$(rollout stores/model-b.dvc "$TMP/rollout-b.txt") && pass "rollout to $VERSION_B in ${out_s}s" || fail "scripts/rollout.sh stores/model-b.dvc failed"
out_done=$(ms)
sleep 3
back_start=$(ms)
back_s=$(rollout stores/model.dvc "$TMP/rollout-a.txt") && pass "rollback to $VERSION_A in ${back_s}s" || fail "scripts/rollout.sh stores/model.dvc failed"
back_done=$(ms)
sleep 3
touch "$TMP/stop-load"
wait "$load_pid" || true
result=$(cat "$TMP/rollout-load.json")
log "load during rollout and rollback: $result"
rollout_checks "$TMP/rollout-b.txt" "$VERSION_A" "$VERSION_B" "rollout A -> B"
rollout_checks "$TMP/rollout-a.txt" "$VERSION_B" "$VERSION_A" "rollback B -> A"
# Versions answered in each window, by when the request was sent.
windows=$(node -e '
  const [file, ...t] = process.argv.slice(1); const [a, b, c, d] = t.map(Number);
  const names = ["before", "during rollout", "on B", "during rollback", "after"], bounds = [0, a, b, c, d, Infinity];
  const out = Object.fromEntries(names.map((n) => [n, {}]));
  for (const line of require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const [at, v] = line.split(" "); const i = bounds.findIndex((x, k) => Number(at) >= x && Number(at) < bounds[k + 1]);
    out[names[i]][v] = (out[names[i]][v] || 0) + 1;
  }
  console.log(JSON.stringify(out));' "$TMP/rollout-trace" "$out_start" "$out_done" "$back_start" "$back_done" 2>&1 || echo '{}')
log "versions answered by window: $windows"
window_only() { node -e 'const w=JSON.parse(process.argv[1])[process.argv[2]]||{};process.exit(Object.keys(w).join()===process.argv[3]?0:1)' "$windows" "$1" "$2"; }
if window_only before "$VERSION_A" && window_only "on B" "$VERSION_B" && window_only after "$VERSION_A"; then
  pass "answers switched from A to B and back (before: A only, between: B only, after: A only)"
else
  fail "answers did not switch cleanly: $windows"
fi
r_failed=$(field "$result" failed)
if [ "$r_failed" = 0 ] && [ "$(field "$result" sent)" != 0 ]; then pass "rollout and rollback under load: $(field "$result" sent) requests, 0 failed"; else fail "rollout and rollback under load: $r_failed of $(field "$result" sent) failed: $(field "$result" codes)"; fi
if [ "$(field "$result" mixed)" = 0 ] && [ "$(field "$result" headerMismatch)" = 0 ]; then
  pass "no request saw a mix of versions (X-Model-Version = data.model_version; each text's probabilities always those of the version named)"
else
  fail "mixed answers: $(field "$result" mixed), header/body mismatches: $(field "$result" headerMismatch)"
fi
note "rollout A -> B ${out_s:-?}s, rollback ${back_s:-?}s, $rollout_n workers each, under $ROLLOUT_LOAD_CONCURRENCY clients x 3 texts: sent $(field "$result" sent), failed $r_failed, mixed $(field "$result" mixed), p50 $(field "$result" p50) ms, p95 $(field "$result" p95) ms, max $(field "$result" max) ms"
note "versions answered by window (A=$VERSION_A, B=$VERSION_B): $windows"
check_predict "after rollback"

[ "${#FAILURES[@]}" -eq 0 ]
