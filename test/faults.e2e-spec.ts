import { freePort } from './support/redis-server';
import { jsonLines, metricValue, send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';
import type { AppProcess } from './support/app-process';
import type Redis from 'ioredis';

/** Waits until some job is active (taken by a worker) and returns its id. */
async function activeJob(stack: Stack, redis: Redis, timeoutMs = 20_000): Promise<string> {
  return waitFor(async () => (await redis.lrange(stack.key('active'), 0, 0))[0], { timeoutMs, what: 'a job becoming active' });
}

/** The id of the queued (waiting or active) job that carries `requestId`, if any. */
async function jobCarrying(stack: Stack, redis: Redis, requestId: string): Promise<string | undefined> {
  const ids = [...(await redis.lrange(stack.key('active'), 0, -1)), ...(await redis.lrange(stack.key('wait'), 0, -1))];
  for (const id of ids) {
    const data = JSON.parse((await redis.hget(stack.key(id), 'data')) ?? '{"requests": []}') as { requests: { requestId: string }[] };
    if (data.requests.some((r) => r.requestId === requestId)) return id;
  }
  return undefined;
}

/** The JSON log line of a worker that finished the job of `requestId`, if any. */
function jobDoneLine(worker: AppProcess, requestId: string) {
  return jsonLines(worker.output).find((l) => l.message?.msg === 'job done' && l.message?.requestId === requestId);
}

describe('worker faults (STALLED_INTERVAL_MS=1000)', () => {
  // 1500 texts keep a worker busy for a few seconds: long enough to be killed mid-job.
  const BIG = 1500;
  let stack: Stack;
  let redis: Redis;

  beforeAll(async () => {
    stack = await Stack.create({ STALLED_INTERVAL_MS: '1000', MAX_TEXTS: String(BIG), BODY_LIMIT: '1mb', PREDICT_TIMEOUT_MS: '90000', LOG_LEVEL: 'debug' });
    await stack.startApi();
    redis = stack.redis.client();
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('a worker killed with SIGKILL mid-job: another worker takes the stalled job over and the client gets the right answer', async () => {
    const victimMetrics = `http://127.0.0.1:${await freePort()}/metrics`;
    const victim = await stack.startWorker({ WORKER_METRICS_PORT: new URL(victimMetrics).port });
    const batchesDone = async () => metricValue(await (await fetch(victimMetrics)).text(), 'tagserve_batch_size_count') ?? 0;
    const batchesBefore = await batchesDone();
    const texts = sampleTexts(BIG, 'kill');
    const pending = send(`${stack.url}/predict`, { body: { texts }, headers: { 'x-request-id': 'fault-sigkill' }, timeoutMs: 120_000 });
    const jobId = await activeJob(stack, redis);
    // Well inside the inference: the model has finished a batch of the job (1500 texts = many batches).
    await waitFor(async () => (await batchesDone()) > batchesBefore, { timeoutMs: 30_000, intervalMs: 20, what: 'a first batch of the big job' });
    expect(await redis.hget(stack.key(jobId), 'finishedOn')).toBeNull();
    const killedAt = Date.now();
    await victim.stop('SIGKILL');

    const rescuer = await stack.startWorker();
    const res = await pending;
    const recoveryMs = Date.now() - killedAt;
    console.log(`faults: job ${jobId} answered ${recoveryMs} ms after its worker was SIGKILLed (incl. ~model load of the new worker)`);

    expect(predictionProblem(res, texts)).toBeUndefined();
    expect(recoveryMs).toBeLessThan(60_000);
    // Recovered by the stalled-job check: the job hash records the stall, the rescuer did the work.
    const job = await redis.hgetall(stack.key(jobId));
    expect(Number(job.stc ?? job.stalledCounter ?? 0)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(job.returnvalue).worker).toMatch(new RegExp(`:${rescuer.child.pid}$`));
    expect(jobDoneLine(rescuer, 'fault-sigkill')).toBeDefined();
    expect(jobDoneLine(victim, 'fault-sigkill')).toBeUndefined();
    expect(await redis.zcard(stack.key('failed'))).toBe(0);
  });

  it('SIGTERM on a busy worker: its in-flight jobs finish and are answered, then it exits 0; queued jobs wait for the next worker', async () => {
    const [worker] = stack.workers.filter((w) => w.running);
    const batches = [0, 1, 2].map((i) => sampleTexts(300, `term${i}-`));
    // One request at a time, each sent once the previous one's job is in Redis: requests that reach
    // the gateway in the same event-loop turn would share one job, and this case needs several.
    const pending: ReturnType<typeof send>[] = [];
    const jobOf: string[] = [];
    for (const [i, texts] of batches.entries()) {
      pending.push(send(`${stack.url}/predict`, { body: { texts }, headers: { 'x-request-id': `fault-sigterm-${i}` }, timeoutMs: 120_000 }));
      jobOf.push(await waitFor(() => jobCarrying(stack, redis, `fault-sigterm-${i}`), { what: `the job of request ${i}` }));
    }
    expect(new Set(jobOf).size).toBeGreaterThanOrEqual(2);
    await activeJob(stack, redis);
    // A worker holds only what its model can start on next: one 300-text job; the others stay queued.
    const inFlight = await redis.lrange(stack.key('active'), 0, -1);
    expect(inFlight.length).toBeGreaterThan(0);
    const inFlightRequests: string[] = [];
    for (const jobId of inFlight) {
      const data = JSON.parse((await redis.hget(stack.key(jobId), 'data'))!) as { requests: { requestId: string }[] };
      inFlightRequests.push(...data.requests.map((r) => r.requestId));
    }
    const exitCode = worker.stop('SIGTERM', 60_000);
    expect(await exitCode).toBe(0);
    // Every job it held was done by itself, none left behind for stalled recovery.
    for (const jobId of inFlight) expect(JSON.parse((await redis.hget(stack.key(jobId), 'returnvalue'))!).worker).toMatch(new RegExp(`:${worker.child.pid}$`));

    const next = await stack.startWorker();
    const answers = await Promise.all(pending);
    answers.forEach((res, i) => expect(predictionProblem(res, batches[i])).toBeUndefined());
    const doneBy = (w: AppProcess) => [0, 1, 2].map((i) => `fault-sigterm-${i}`).filter((id) => jobDoneLine(w, id));
    console.log(`faults: SIGTERM with ${inFlight.length} of ${new Set(jobOf).size} jobs in flight; the next worker did ${doneBy(next).join(', ') || 'none'}`);
    expect(doneBy(worker).sort()).toEqual(inFlightRequests.sort());
    expect(doneBy(next).length).toBeGreaterThan(0); // some job really waited for it
    expect([...doneBy(worker), ...doneBy(next)].sort()).toEqual(['fault-sigterm-0', 'fault-sigterm-1', 'fault-sigterm-2']);
    expect(await redis.llen(stack.key('active'))).toBe(0);
  });

  it('the api restarted: workers keep going, jobs of the old api still complete, a new api serves', async () => {
    const worker = await stack.startWorker();
    const api = stack.api!;

    // Graceful stop (SIGTERM) with a request in flight: it is still answered.
    const texts = sampleTexts(300, 'api-term');
    const inFlight = send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 60_000 });
    await activeJob(stack, redis);
    await api.stop('SIGTERM');
    expect(predictionProblem(await inFlight, texts)).toBeUndefined();

    // Hard kill with a job queued: the client loses its connection, but the job is not lost.
    await stack.startApi();
    const orphan = send(`${stack.url}/predict`, {
      body: { texts: sampleTexts(300, 'api-kill') },
      headers: { 'x-request-id': 'fault-api-kill' },
      timeoutMs: 60_000,
    });
    await activeJob(stack, redis);
    await stack.api!.stop('SIGKILL');
    expect((await orphan).status).toBe(0);
    await waitFor(() => jobDoneLine(worker, 'fault-api-kill'), { timeoutMs: 30_000, intervalMs: 50, what: 'the orphaned job done' });
    expect(jobDoneLine(worker, 'fault-api-kill')).toBeDefined();

    // A new api on the same port serves with the same worker, which never stopped.
    await stack.startApi();
    await stack.waitUntilReady();
    expect(worker.running).toBe(true);
    const again = sampleTexts(4, 'new-api');
    expect(predictionProblem(await send(`${stack.url}/predict`, { body: { texts: again } }), again)).toBeUndefined();
    expect(jsonLines(worker.output).filter((l) => l.level === 'error')).toEqual([]);
  });
});
