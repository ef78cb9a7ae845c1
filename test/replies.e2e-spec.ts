import { PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { send, sleep } from './support/http';
import { LABELS, predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

/** What a worker that never publishes a reply would record: the gateway must find it in Redis. */
function silentResult(job: Job<PredictionJobData>): PredictionJobResult {
  const probabilities = Object.fromEntries(LABELS.map((label, i) => [label, i === 1 ? 1 : 0]));
  return {
    predictions: job.data.texts.map((text) => ({ input_text: text, predicted_tag: LABELS[1], predicted_probabilities: probabilities })),
    worker: 'silent-test-worker',
    modelVersion: 'test',
    timings: { queueMs: 0, batchWaitMs: 0, modelMs: 0 },
  };
}

describe('reply channel: answers published by workers, job state as the fallback', () => {
  let stack: Stack;
  let redis: Redis;
  let silent: Worker | undefined;

  beforeAll(async () => {
    stack = await Stack.create({ JOB_ATTEMPTS: '1', PREDICT_TIMEOUT_MS: '20000' });
    await stack.startApi();
    redis = stack.redis.client();
  });

  afterEach(async () => {
    await silent?.close();
    silent = undefined;
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  /** A bare BullMQ worker that completes (or fails) jobs but never publishes a reply: every reply is "lost". */
  function startSilentWorker(process: (job: Job<PredictionJobData>) => Promise<PredictionJobResult>): Worker {
    return new Worker(PREDICTION_QUEUE, process, {
      prefix: stack.prefix,
      connection: { host: '127.0.0.1', port: stack.redis.port, password: stack.redis.password || undefined, maxRetriesPerRequest: null },
    });
  }

  it('a completed job whose reply never comes is answered from its state in Redis', async () => {
    silent = startSilentWorker(async (job) => silentResult(job));
    const texts = sampleTexts(3, 'silent');
    const res = await send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 15_000 });
    expect(predictionProblem(res, texts)).toBeUndefined();
    expect(res.body.data.predictions.map((p: { predicted_tag: string }) => p.predicted_tag)).toEqual([LABELS[1], LABELS[1], LABELS[1]]);
    // Found by the sweep (CHECK_AFTER_MS = 1 s), not by the 20 s timeout.
    expect(res.ms).toBeGreaterThan(900);
    expect(res.ms).toBeLessThan(5000);
  });

  it('a job that failed for good without a reply gives 502 with the reason, found in Redis', async () => {
    silent = startSilentWorker(async () => {
      throw new UnrecoverableError('model exploded');
    });
    const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, 'fail') }, timeoutMs: 15_000 });
    expect(res.status).toBe(502);
    expect(res.body.error).toContain('model exploded');
    expect(res.body.details.jobId).toEqual(expect.any(String));
    expect(res.ms).toBeLessThan(5000);
  });

  it('a job that disappears from Redis gives 503 with Retry-After, not a wait for the timeout', async () => {
    const pending = send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, 'lost') }, timeoutMs: 15_000 });
    const jobId = await waitFor(async () => (await redis.lrange(stack.key('wait'), 0, 0))[0], { what: 'the job queued' });
    expect(jobId).toBeDefined();
    await redis.del(stack.key(jobId));
    await redis.lrem(stack.key('wait'), 0, jobId);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.error).toContain(jobId);
    expect(res.ms).toBeLessThan(5000);
  });

  it('with a real worker, answers keep coming while the gateway reply subscription is cut again and again', async () => {
    const worker = await stack.startWorker();
    const texts = sampleTexts(1, 'cut');
    let cutting = true;
    const cutter = (async () => {
      let cuts = 0;
      while (cutting) {
        cuts += Number(await redis.client('KILL', 'TYPE', 'pubsub'));
        await sleep(25);
      }
      return cuts;
    })();
    const results = [];
    for (let round = 0; round < 10; round++) {
      results.push(...(await Promise.all(Array.from({ length: 8 }, () => send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 15_000 })))));
    }
    cutting = false;
    const cuts = await cutter;
    await worker.stop('SIGKILL');
    console.log(
      `replies: ${results.length} requests while the reply subscription was cut ${cuts} times; slowest ${Math.round(Math.max(...results.map((r) => r.ms)))} ms`,
    );
    expect(cuts).toBeGreaterThan(0);
    for (const res of results) expect(predictionProblem(res, texts)).toBeUndefined();
  });
});
