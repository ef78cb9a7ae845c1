#!/usr/bin/env bash
# Replaces the running workers of a Compose stack by workers serving another model artifact,
# without stopping the service:
#   1. starts N new workers with MODEL_DVC_FILE=<pointer> next to the old ones
#      (`up -d --no-deps --no-recreate --scale worker=old+N worker`: old containers are kept as they are);
#   2. waits until every new worker is healthy (model materialized, verified, loaded; consuming);
#   3. stops the old workers (SIGTERM through `docker stop`): they take no new job, finish the
#      ones in flight, exit 0, and are removed.
# If a new worker does not become healthy in time, the new workers are removed and the old ones
# keep serving (exit 1). Rolling back is the same command with the previous pointer.
#
#   scripts/rollout.sh stores/model-b.dvc          # roll out
#   scripts/rollout.sh stores/model.dvc            # roll back
#
# Options: -p <project> and --env-file <file> are passed to Compose; -n <workers> new workers
# (default: as many as run now). Works with Compose v2 (`docker compose`) and v1 (`docker-compose`).
# Environment: API_URL (default http://127.0.0.1:${API_PORT:-8000}) to report /performance,
# ROLLOUT_READY_TIMEOUT (240 s), WORKER_STOP_TIMEOUT (60 s, above SHUTDOWN_GRACE_MS).
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { echo "usage: $0 [-p project] [--env-file file] [-n workers] <stores/<name>.dvc>" >&2; exit 2; }
GLOBAL=()
NEW_COUNT=""
DVC=""
while [ $# -gt 0 ]; do
  case $1 in
    -p | --project-name) GLOBAL+=(-p "$2"); shift 2 ;;
    --env-file) GLOBAL+=(--env-file "$2"); shift 2 ;;
    -n | --workers) NEW_COUNT=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) [ -z "$DVC" ] || usage; DVC=$1; shift ;;
  esac
done
[ -n "$DVC" ] || usage
# The image holds the store and every pointer under /app/stores; the path is read inside the container.
case $DVC in stores/*.dvc) ;; *) echo "rollout: the pointer must be a stores/<name>.dvc file of the image (got '$DVC')" >&2; exit 2 ;; esac
[ -f "$DVC" ] || { echo "rollout: $DVC does not exist" >&2; exit 2; }
VERSION=$(awk '$1 == "-" && $2 == "md5:" { print $3; exit }' "$DVC")
READY_TIMEOUT=${ROLLOUT_READY_TIMEOUT:-240}
STOP_TIMEOUT=${WORKER_STOP_TIMEOUT:-60}
API_URL=${API_URL:-http://127.0.0.1:${API_PORT:-8000}}

if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); elif command -v docker-compose >/dev/null 2>&1; then COMPOSE=(docker-compose); else
  echo "rollout: neither 'docker compose' nor 'docker-compose' is available" >&2
  exit 2
fi
compose() { "${COMPOSE[@]}" "${GLOBAL[@]}" "$@"; }
log() { printf '[rollout %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
running() { for c in "$@"; do [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] && echo "$c"; done; return 0; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo gone; }
cname() { docker inspect -f '{{.Name}}' "$1" | sed 's#^/##'; }
# The versions /performance lists right now, as "<version>=<workers> ..." (empty if the api does not answer).
served() {
  curl -s -m 5 "$API_URL/performance" 2>/dev/null |
    node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{try{console.log(JSON.parse(d).data.versions.map(v=>v.model_version+"="+v.workers).join(" "))}catch{console.log("")}})'
}

# Stopped worker containers would count towards --scale, and --no-recreate would start them again
# with their old setting: they serve nothing, so they go first.
compose rm -f worker >/dev/null 2>&1 || true
mapfile -t OLD < <(running $(compose ps -q worker))
NEW_COUNT=${NEW_COUNT:-${#OLD[@]}}
[ "$NEW_COUNT" -ge 1 ] || NEW_COUNT=1
log "${COMPOSE[*]}: ${#OLD[@]} worker(s) running; starting $NEW_COUNT worker(s) of $DVC ($VERSION)"
log "serving before: $(served)"

# Exported: it wins over .env in both Compose versions. Only containers created now get it.
export MODEL_DVC_FILE=$DVC
compose up -d --no-deps --no-recreate --scale "worker=$(( ${#OLD[@]} + NEW_COUNT ))" worker
mapfile -t NEW < <(running $(compose ps -q worker) | grep -vxF -f <(printf '%s\n' "${OLD[@]}" ""))
[ "${#NEW[@]}" -eq "$NEW_COUNT" ] || { log "expected $NEW_COUNT new workers, found ${#NEW[@]}"; exit 1; }
for c in "${NEW[@]}"; do
  env_file=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$c" | sed -n 's/^MODEL_DVC_FILE=//p')
  [ "$env_file" = "$DVC" ] || { log "$(cname "$c") has MODEL_DVC_FILE=$env_file, not $DVC"; exit 1; }
done

abort() {
  log "ROLLOUT ABORTED: $*; removing the new workers, the old ones keep serving"
  # SIGTERM first: a new worker that already took jobs finishes them.
  docker stop -t "$STOP_TIMEOUT" "${NEW[@]}" >/dev/null || true
  docker rm -f "${NEW[@]}" >/dev/null || true
  exit 1
}
start=$SECONDS
while :; do
  pending=""
  for c in "${NEW[@]}"; do
    status=$(health "$c")
    [ "$status" = healthy ] || pending="$pending $(cname "$c")=$status"
  done
  [ -n "$pending" ] || break
  [ $((SECONDS - start)) -lt "$READY_TIMEOUT" ] || abort "not healthy within ${READY_TIMEOUT}s:$pending"
  sleep 1
done
log "new workers healthy after $((SECONDS - start))s: $(for c in "${NEW[@]}"; do printf '%s ' "$(cname "$c")"; done)"
log "serving during the switch: $(served)"

if [ "${#OLD[@]}" -gt 0 ]; then
  names=$(for c in "${OLD[@]}"; do printf '%s ' "$(cname "$c")"; done)
  log "stopping the old workers (SIGTERM; they drain, at most ${STOP_TIMEOUT}s): $names"
  docker stop -t "$STOP_TIMEOUT" "${OLD[@]}" >/dev/null
  failed=0
  for c in "${OLD[@]}"; do
    code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
    drained=$(docker logs --tail 50 "$c" 2>&1 | grep -o '"msg":"worker closed","drained":[a-z]*' | tail -1 | sed 's/.*://')
    log "$(cname "$c") exited $code (drained: ${drained:-?})"
    [ "$code" = 0 ] || failed=1
  done
  docker rm "${OLD[@]}" >/dev/null
  [ "$failed" = 0 ] || { log "an old worker did not exit 0"; exit 1; }
fi

# The old workers withdrew from the gateway's count when they got SIGTERM.
log "serving after: $(served)"
log "done: $NEW_COUNT worker(s) serve $VERSION. Put MODEL_DVC_FILE=$DVC in .env so that a later \`up\` keeps it."
