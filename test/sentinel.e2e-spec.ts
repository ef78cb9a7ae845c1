import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, waitForStatus } from './support/app-process';
import { HttpResult, jsonLines, metricValue, percentile, send, sleep } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { freePort } from './support/redis-server';
import { SENTINEL_MASTER_NAME, SentinelSetup } from './support/redis-sentinel';

interface Answer {
  gateway: 'acks' | 'plain';
  requestId: string;
  at: number;
  res: HttpResult;
  problem?: string;
}

/** What a non-200 answer says happened to the request's job. */
function kind(res: HttpResult): 'refused' | 'accepted' | 'other' {
  const error = String(res.body?.error ?? res.error ?? '');
  // Never queued, or queued but not confirmed by a replica: the client was told to retry.
  if (/Redis\) is unavailable|not accepted: the queue's replicas/.test(error)) return 'refused';
  // Queued (the add was acknowledged) and then not answered: lost (503), late (504) or failed (502).
  if (/no longer in Redis|did not finish within|failed:/.test(error)) return 'accepted';
  return 'other';
}

/**
 * Redis behind Sentinel: a master, a replica, three sentinels; two gateways and a worker that know
 * only the sentinels (REDIS_HOST points nowhere), with a hash-tagged QUEUE_PREFIX. Under load the
 * master is SIGKILLed; the sentinels promote the replica; the killed server is started again as an
 * orchestrator would, and the sentinels turn it into the new master's replica. The gateway with
 * QUEUE_ADD_REPLICA_ACKS=1 must lose no accepted job; the other one is measured beside it.
 */
describe('Redis Sentinel failover under load', () => {
  const PREDICT_TIMEOUT_MS = 8000;
  const CLIENT_TIMEOUT_MS = PREDICT_TIMEOUT_MS + 10_000;
  const LOAD_MS = 15_000;
  let setup: SentinelSetup;
  const apps: AppProcess[] = [];
  const dirs: string[] = [];
  let acksUrl = '';
  let plainUrl = '';
  let worker: AppProcess;
  let workerMetricsPort = 0;

  beforeAll(async () => {
    setup = await SentinelSetup.start(1000);
    const env = {
      // Nothing listens there: every connection must come from the sentinels.
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(await freePort()),
      REDIS_SENTINELS: setup.addresses,
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
      QUEUE_PREFIX: '{sentinel-e2e}',
      PREDICT_TIMEOUT_MS: String(PREDICT_TIMEOUT_MS),
      STALLED_INTERVAL_MS: '1000',
      HOST: '127.0.0.1',
    };
    const ports = [await freePort(), await freePort()];
    acksUrl = `http://127.0.0.1:${ports[0]}`;
    plainUrl = `http://127.0.0.1:${ports[1]}`;
    apps.push(AppProcess.start('api', { ...env, PORT: String(ports[0]), QUEUE_ADD_REPLICA_ACKS: '1', QUEUE_ADD_REPLICA_ACK_MS: '250' }));
    apps.push(AppProcess.start('api', { ...env, PORT: String(ports[1]) }));
    const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-model-'));
    dirs.push(modelDir);
    workerMetricsPort = await freePort();
    // debug: the worker logs one 'job done' line per request, which is how lost jobs are found.
    worker = AppProcess.start('worker', { ...env, MODEL_DIR: modelDir, LOG_LEVEL: 'debug', WORKER_METRICS_PORT: String(workerMetricsPort) });
    apps.push(worker);
    await worker.waitForLog(/worker ready/, 120_000);
    await waitForStatus(`${acksUrl}/health/ready`, 200);
    await waitForStatus(`${plainUrl}/health/ready`, 200);
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL').catch(() => undefined)));
    await setup?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keys carry the hash tag, and WAIT for one replica costs little on /predict', async () => {
    // Side by side, alternating, so machine drift hits both gateways alike.
    const ms: Record<'acks' | 'plain', number[]> = { acks: [], plain: [] };
    for (let i = 0; i < 60; i++) {
      for (const [name, url] of [
        ['acks', acksUrl],
        ['plain', plainUrl],
      ] as const) {
        const texts = sampleTexts(1, `lat-${name}-${i}-`);
        const res = await send(`${url}/predict`, { body: { texts }, timeoutMs: CLIENT_TIMEOUT_MS });
        expect(predictionProblem(res, texts)).toBeUndefined();
        if (i >= 10) ms[name].push(res.ms); // the first ones warm up both paths
      }
    }
    const metrics = await (await fetch(`${acksUrl}/metrics`)).text();
    const waitSum = metricValue(metrics, 'tagserve_replica_ack_wait_seconds_sum', { confirmed: 'true' }) ?? NaN;
    const waitCount = metricValue(metrics, 'tagserve_replica_ack_wait_seconds_count', { confirmed: 'true' }) ?? NaN;
    const p = (name: 'acks' | 'plain', q: number) => percentile(ms[name], q).toFixed(1);
    console.log(
      `sentinel: sequential /predict latency, WAIT 1 replica vs none (50 each, alternating): p50 ${p('acks', 50)} vs ${p('plain', 50)} ms, ` +
        `p95 ${p('acks', 95)} vs ${p('plain', 95)} ms; mean WAIT ${((waitSum / waitCount) * 1000).toFixed(2)} ms over ${waitCount} WAITs`,
    );
    // Every request above was answered 200 with its own predictions; the WAITs confirming their adds
    // ran (a WAIT already on its way is shared by the adds it covers: a few fewer than 60 requests).
    expect(waitCount).toBeGreaterThanOrEqual(50);

    const master = (await setup.currentMaster()).client();
    try {
      const keys = await master.keys('*sentinel-e2e*');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith('{sentinel-e2e}:'))).toEqual([]);
    } finally {
      master.disconnect();
    }
  });

  it('master SIGKILLed under load: the replica is promoted, the stack follows it, no accepted job is lost', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const answers: Answer[] = [];
    let running = true;
    const client = async (gateway: Answer['gateway'], id: number) => {
      const url = gateway === 'acks' ? acksUrl : plainUrl;
      for (let n = 0; running; n++) {
        const texts = sampleTexts(1 + (n % 3), `${gateway}${id}-${n}-`);
        const requestId = `sentinel-${gateway}-${id}-${n}`;
        const res = await send(`${url}/predict`, { body: { texts }, agent, headers: { 'x-request-id': requestId }, timeoutMs: CLIENT_TIMEOUT_MS });
        answers.push({ gateway, requestId, at: Date.now(), res, problem: res.status === 200 ? predictionProblem(res, texts) : undefined });
        if (res.status !== 200) await sleep(100); // a client backing off, as Retry-After asks
      }
    };
    const started = Date.now();
    const clients = [...Array.from({ length: 8 }, (_, i) => client('acks', i)), ...Array.from({ length: 2 }, (_, i) => client('plain', i))];

    await sleep(4000);
    const oldMaster = setup.master;
    await oldMaster.stop(); // SIGKILL
    const killedAt = Date.now();
    let promotedAt = 0;
    while (!promotedAt && Date.now() - killedAt < 30_000) {
      if ((await setup.masterPort().catch(() => oldMaster.port)) === setup.replica.port) promotedAt = Date.now();
      else await sleep(100);
    }
    expect(promotedAt).toBeGreaterThan(0);
    // The orchestrator restarts the dead server as the replica of whichever master the sentinels
    // name, as Sentinel-aware start scripts do (left alone as a master, the sentinels would demote
    // it only after about 8 s of seeing it up: measured 15.5 s until it was a replica again).
    await oldMaster.restart(['--replicaof', '127.0.0.1', String(await setup.masterPort())]);
    const restartedAt = Date.now();
    const master = setup.replica.client();
    let replicaBackAt = 0;
    while (!replicaBackAt && Date.now() - restartedAt < 30_000) {
      const info = await master.info('replication');
      if (/connected_slaves:1/.test(info) && /slave0:.*state=online/.test(info)) replicaBackAt = Date.now();
      else await sleep(100);
    }
    expect(replicaBackAt).toBeGreaterThan(0);

    await sleep(Math.max(4000, LOAD_MS - (Date.now() - started)));
    running = false;
    await Promise.all(clients);
    agent.destroy();

    // Let the worker finish what is still queued before reading its log.
    const drainDeadline = Date.now() + 30_000;
    while (Date.now() < drainDeadline && (await master.llen('{sentinel-e2e}:predictions:wait')) + (await master.llen('{sentinel-e2e}:predictions:active')) > 0)
      await sleep(200);
    master.disconnect();
    await sleep(500);

    const done = new Set(
      jsonLines(worker.output)
        .filter((l) => l.message?.msg === 'job done')
        .map((l) => String(l.message.requestId)),
    );
    const workerMetrics = await (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).text();
    const completedRequests = metricValue(workerMetrics, 'tagserve_worker_requests_total', { outcome: 'completed' }) ?? 0;
    const summary = (gateway: Answer['gateway']) => {
      const mine = answers.filter((a) => a.gateway === gateway);
      const byStatus: Record<string, number> = {};
      for (const { res } of mine) byStatus[res.status || 'no answer'] = (byStatus[res.status || 'no answer'] ?? 0) + 1;
      const failed = mine.filter((a) => a.res.status !== 200);
      const accepted = failed.filter((a) => kind(a.res) === 'accepted');
      const lost = accepted.filter((a) => !done.has(a.requestId));
      const ok = mine.filter((a) => a.res.status === 200);
      const failedSpan = failed.length ? `${failed[0].at - killedAt}..${failed[failed.length - 1].at - killedAt} ms after the kill` : 'none';
      const slowestFailure = Math.round(Math.max(0, ...failed.map((a) => a.res.ms)));
      return { mine, byStatus, failed, accepted, lost, ok, failedSpan, slowestFailure };
    };
    const acks = summary('acks');
    const plain = summary('plain');
    console.log(
      `sentinel failover: promoted ${promotedAt - killedAt} ms after the SIGKILL, old master back as replica ${replicaBackAt - restartedAt} ms after its restart; ` +
        `worker completed ${done.size} distinct requests (counter ${completedRequests}) for ${acks.ok.length + plain.ok.length} 200s\n` +
        `  WAIT 1 replica: ${acks.mine.length} requests ${JSON.stringify(acks.byStatus)}, failed ${acks.failed.length} (${acks.failedSpan}, slowest ${acks.slowestFailure} ms), ` +
        `accepted then unanswered ${acks.accepted.length}, lost accepted jobs ${acks.lost.length}\n` +
        `  no WAIT:        ${plain.mine.length} requests ${JSON.stringify(plain.byStatus)}, failed ${plain.failed.length} (${plain.failedSpan}, slowest ${plain.slowestFailure} ms), ` +
        `accepted then unanswered ${plain.accepted.length}, lost accepted jobs ${plain.lost.length}`,
    );

    const reasons: Record<string, { count: number; first: number; last: number }> = {};
    for (const a of answers.filter((x) => x.res.status !== 200)) {
      const key = `${a.gateway} ${a.res.status} ${String(a.res.body?.error ?? a.res.error)
        .replace(/[0-9a-f]{12}-\d+/g, '<job>')
        .slice(0, 140)}`;
      const r = (reasons[key] ??= { count: 0, first: a.at - killedAt, last: 0 });
      r.count++;
      r.last = a.at - killedAt;
    }
    console.log(
      `sentinel failover, non-200 answers by reason (ms after the kill):\n${Object.entries(reasons)
        .map(([k, r]) => `  ${k}: ${r.count} (${r.first}..${r.last} ms)`)
        .join('\n')}`,
    );
    // Every request got an answer, every 200 was right, and no failure was anything but a retryable refusal or an accepted job's fate.
    expect(answers.filter((a) => a.res.status === 0)).toEqual([]);
    expect(answers.filter((a) => a.problem)).toEqual([]);
    expect(answers.filter((a) => a.res.status !== 200 && kind(a.res) === 'other').map((a) => `${a.res.status} ${a.res.body?.error}`)).toEqual([]);
    // With WAIT, no job the gateway accepted was lost in the failover.
    expect(acks.lost.map((a) => a.requestId)).toEqual([]);
    // Every 200 was computed by the worker (it logged the request done).
    expect(answers.filter((a) => a.res.status === 200 && !done.has(a.requestId)).map((a) => a.requestId)).toEqual([]);
    // Recovered with no manual step: both gateways answer 200 again after the failover.
    expect(acks.ok.filter((a) => a.at > replicaBackAt).length).toBeGreaterThan(0);
    expect(plain.ok.filter((a) => a.at > promotedAt).length).toBeGreaterThan(0);
    // Failures stay inside the failover and are answered quickly (bounded waits, not the client timeout):
    // none is answered later than 5 s after the replica is back (a 503 asks for a retry after 1-2 s).
    expect(acks.slowestFailure).toBeLessThan(PREDICT_TIMEOUT_MS + 5000);
    expect(
      answers.filter((a) => a.res.status !== 200 && a.at > replicaBackAt + 5000).map((a) => `${a.gateway} ${a.at - killedAt} ms: ${a.res.status}`),
    ).toEqual([]);
    expect(apps.every((app) => app.running)).toBe(true);
  });
});
