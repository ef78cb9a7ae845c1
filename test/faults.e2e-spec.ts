import { jsonLines, send, sleep } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import type { AppProcess } from './support/app-process';
import type Redis from 'ioredis';

const Q = 'tagserve:predictions';

/** Waits until some job is active (taken by a worker) and returns its id. */
async function activeJob(redis: Redis, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [id] = await redis.lrange(`${Q}:active`, 0, 0);
    if (id) return id;
    await sleep(10);
  }
  throw new Error('no job became active');
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
    const victim = await stack.startWorker();
    const texts = sampleTexts(BIG, 'kill');
    const pending = send(`${stack.url}/predict`, { body: { texts }, headers: { 'x-request-id': 'fault-sigkill' }, timeoutMs: 120_000 });
    const jobId = await activeJob(redis);
    await sleep(300); // well inside the inference
    expect(await redis.hget(`${Q}:${jobId}`, 'finishedOn')).toBeNull();
    const killedAt = Date.now();
    await victim.stop('SIGKILL');

    const rescuer = await stack.startWorker();
    const res = await pending;
    const recoveryMs = Date.now() - killedAt;
    console.log(`faults: job ${jobId} answered ${recoveryMs} ms after its worker was SIGKILLed (incl. ~model load of the new worker)`);

    expect(predictionProblem(res, texts)).toBeUndefined();
    expect(recoveryMs).toBeLessThan(60_000);
    // Recovered by the stalled-job check: the job hash records the stall, the rescuer did the work.
    const job = await redis.hgetall(`${Q}:${jobId}`);
    expect(Number(job.stc ?? job.stalledCounter ?? 0)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(job.returnvalue).worker).toMatch(new RegExp(`:${rescuer.child.pid}$`));
    expect(jobDoneLine(rescuer, 'fault-sigkill')).toBeDefined();
    expect(jobDoneLine(victim, 'fault-sigkill')).toBeUndefined();
    expect(await redis.zcard(`${Q}:failed`)).toBe(0);
  });

  it('SIGTERM on a busy worker: its in-flight jobs finish and are answered, then it exits 0; queued jobs wait for the next worker', async () => {
    const [worker] = stack.workers.filter((w) => w.running);
    const batches = [0, 1, 2].map((i) => sampleTexts(300, `term${i}-`));
    const pending = batches.map((texts, i) => send(`${stack.url}/predict`, { body: { texts }, headers: { 'x-request-id': `fault-sigterm-${i}` }, timeoutMs: 120_000 }));
    await activeJob(redis);
    await sleep(200);
    // A worker holds only what its model can start on next: one 300-text job; the others stay queued.
    const inFlight = await redis.lrange(`${Q}:active`, 0, -1);
    expect(inFlight.length).toBeGreaterThan(0);
    // (Requests that reached the gateway in the same turn share a job.)
    const inFlightRequests: string[] = [];
    for (const jobId of inFlight) {
      const data = JSON.parse((await redis.hget(`${Q}:${jobId}`, 'data'))!) as { requests: { requestId: string }[] };
      inFlightRequests.push(...data.requests.map((r) => r.requestId));
    }
    const exitCode = worker.stop('SIGTERM', 60_000);
    expect(await exitCode).toBe(0);
    // Every job it held was done by itself, none left behind for stalled recovery.
    for (const jobId of inFlight) expect(JSON.parse((await redis.hget(`${Q}:${jobId}`, 'returnvalue'))!).worker).toMatch(new RegExp(`:${worker.child.pid}$`));

    const next = await stack.startWorker();
    const answers = await Promise.all(pending);
    answers.forEach((res, i) => expect(predictionProblem(res, batches[i])).toBeUndefined());
    const doneBy = (w: AppProcess) => [0, 1, 2].map((i) => `fault-sigterm-${i}`).filter((id) => jobDoneLine(w, id));
    expect(doneBy(worker).sort()).toEqual(inFlightRequests.sort());
    expect([...doneBy(worker), ...doneBy(next)].sort()).toEqual(['fault-sigterm-0', 'fault-sigterm-1', 'fault-sigterm-2']);
    expect(await redis.llen(`${Q}:active`)).toBe(0);
  });

  it('the api restarted: workers keep going, jobs of the old api still complete, a new api serves', async () => {
    const worker = await stack.startWorker();
    const api = stack.api!;

    // Graceful stop (SIGTERM) with a request in flight: it is still answered.
    const texts = sampleTexts(300, 'api-term');
    const inFlight = send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 60_000 });
    await activeJob(redis);
    await api.stop('SIGTERM');
    expect(predictionProblem(await inFlight, texts)).toBeUndefined();

    // Hard kill with a job queued: the client loses its connection, but the job is not lost.
    await stack.startApi();
    const orphan = send(`${stack.url}/predict`, { body: { texts: sampleTexts(300, 'api-kill') }, headers: { 'x-request-id': 'fault-api-kill' }, timeoutMs: 60_000 });
    await activeJob(redis);
    await stack.api!.stop('SIGKILL');
    expect((await orphan).status).toBe(0);
    const deadline = Date.now() + 30_000;
    while (!jobDoneLine(worker, 'fault-api-kill') && Date.now() < deadline) await sleep(50);
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
