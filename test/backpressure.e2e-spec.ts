import { percentile, send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

/**
 * Backpressure: with QUEUE_MAX_WAITING jobs already waiting (no worker yet), further
 * predictions are refused at once with 429 + Retry-After instead of queueing up to time out,
 * and the jobs that were accepted are all answered correctly once a worker comes.
 */
describe('backpressure', () => {
  const LIMIT = 5;
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ QUEUE_MAX_WAITING: String(LIMIT), PREDICT_TIMEOUT_MS: '60000' });
    await stack.startApi();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 429 with Retry-After at once when the queue is full, and loses none of the accepted jobs', async () => {
    const redis = stack.redis.client();
    try {
      // Fill the queue: no worker runs, so these wait. One at a time: requests arriving together
      // would share a job, and the limit counts waiting jobs.
      const acceptedTexts = Array.from({ length: LIMIT }, (_, i) => sampleTexts(2, `accepted${i}-`));
      const accepted: ReturnType<typeof send>[] = [];
      for (const [i, texts] of acceptedTexts.entries()) {
        accepted.push(send(`${stack.url}/predict`, { body: { texts }, timeoutMs: 90_000 }));
        await waitFor(async () => (await redis.llen(stack.key('wait'))) >= i + 1, { what: `job ${i + 1} queued` });
      }
      expect(await redis.llen(stack.key('wait'))).toBe(LIMIT);

      // A burst beyond the limit: every one refused, fast.
      const refused = await Promise.all(
        Array.from({ length: 30 }, (_, i) => send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, `refused${i}-`) }, timeoutMs: 10_000 })),
      );
      const latencies = refused.map((r) => r.ms);
      console.log(
        `backpressure: ${refused.length} refused while ${LIMIT} waiting; 429 latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      );
      for (const res of refused) {
        expect(res.status).toBe(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.body).toMatchObject({ 'status-code': 429 });
        expect(res.body.error).toMatch(/Too many queued predictions \(5 waiting, limit 5\)/);
      }
      // Then one at a time, as a client honouring Retry-After would come back.
      const sequential: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, `again${i}-`) } });
        expect(res.status).toBe(429);
        sequential.push(res.ms);
      }
      console.log(`backpressure: sequential 429 latency p50 ${percentile(sequential, 50).toFixed(1)} ms, max ${Math.max(...sequential).toFixed(1)} ms`);
      // "At once": far below PREDICT_TIMEOUT_MS (60 s here), with headroom for a loaded 2-core CI machine.
      expect(Math.max(...latencies, ...sequential)).toBeLessThan(3000);
      expect(percentile(sequential, 50)).toBeLessThan(250);
      expect(await redis.llen(stack.key('wait'))).toBe(LIMIT); // nothing refused was queued

      // A worker arrives: every accepted request gets its own right answer.
      await stack.startWorker();
      const answers = await Promise.all(accepted);
      answers.forEach((res, i) => expect(predictionProblem(res, acceptedTexts[i])).toBeUndefined());

      // And with the queue drained, new requests are accepted again.
      const texts = sampleTexts(3, 'after');
      expect(predictionProblem(await send(`${stack.url}/predict`, { body: { texts } }), texts)).toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });
});
