import type Redis from 'ioredis';
import { metricValue, send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { freePort } from './support/redis-server';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

/** A /predict job whose caller already got its 504 is dropped by the worker, never inferred. */
describe('deadlines: expired /predict jobs are not inferred', () => {
  let stack: Stack;
  let redis: Redis;
  let workerMetrics: string;

  beforeAll(async () => {
    // 1.5 s: long enough for a warm worker to answer, short enough that a job queued with no worker expires.
    stack = await Stack.create({ PREDICT_TIMEOUT_MS: '1500', JOB_ATTEMPTS: '3' });
    await stack.startApi();
    redis = stack.redis.client();
    workerMetrics = `http://127.0.0.1:${await freePort()}/metrics`;
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  const scrape = async () => (await fetch(workerMetrics)).text();

  it('a job that timed out while no worker ran fails as expired when a worker takes it: no batch, no retry, counted', async () => {
    const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(2, 'late') }, timeoutMs: 10_000 });
    expect(res.status).toBe(504);
    const jobId: string = res.body.details.jobId;
    expect(await redis.lrange(stack.key('wait'), 0, -1)).toContain(jobId);

    await stack.startWorker({ WORKER_METRICS_PORT: new URL(workerMetrics).port });
    await waitFor(async () => (await redis.zscore(stack.key('failed'), jobId)) !== null, { timeoutMs: 15_000, what: 'the expired job in the failed set' });

    expect(await redis.hget(stack.key(jobId), 'failedReason')).toContain('deadline passed');
    const metrics = await scrape();
    // Taken once: unrecoverable, where JOB_ATTEMPTS=3 would otherwise retry it twice more.
    expect(metricValue(metrics, 'tagserve_worker_jobs_expired_total')).toBe(1);
    expect(metricValue(metrics, 'tagserve_worker_jobs_total', { outcome: 'expired' })).toBe(1);
    // Nothing reached the model: no batch was run for its texts.
    expect(metricValue(metrics, 'tagserve_batch_size_count') ?? 0).toBe(0);
  });

  it('a job taken within its deadline is still inferred and answered', async () => {
    const texts = sampleTexts(3, 'on-time');
    const res = await send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 10_000 });
    expect(predictionProblem(res, texts)).toBeUndefined();
    const metrics = await scrape();
    expect(metricValue(metrics, 'tagserve_batch_size_sum')).toBe(3);
    expect(metricValue(metrics, 'tagserve_worker_jobs_expired_total')).toBe(1);
  });
});
