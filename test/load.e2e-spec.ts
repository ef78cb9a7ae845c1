import { Agent } from 'node:http';
import { freePort } from './support/redis-server';
import { metricValue, percentile, send, sleep } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';

/**
 * Closed-loop load on loopback: LOAD_CLIENTS clients (default 200) each send one prediction after
 * another for LOAD_DURATION_MS (default 20 s in CI; `LOAD_DURATION_MS=60000 npx jest test/load`
 * for the full minute). Every request must get its right answer (or a 429 under backpressure):
 * no errors, no lost jobs; the worker's own job counter must match the 200s exactly.
 */
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 200);
const DURATION_MS = Number(process.env.LOAD_DURATION_MS ?? 20_000);

describe(`load: ${CLIENTS} concurrent clients for ${DURATION_MS / 1000} s`, () => {
  let stack: Stack;
  let workerMetrics: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await Stack.create({ THROTTLE_LIMIT: '100000000', PREDICT_TIMEOUT_MS: '30000', WORKER_METRICS_PORT: String(metricsPort) });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it(
    'answers every request correctly, loses no job, and reports latency percentiles',
    async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
      const latencies: number[] = [];
      const statuses: Record<string, number> = {};
      const problems: string[] = [];
      let texts = 0;
      const started = Date.now();
      const client = async (id: number) => {
        for (let n = 0; Date.now() - started < DURATION_MS; n++) {
          const body = sampleTexts(1 + ((id + n) % 4), `l${id}-${n}-`);
          const res = await send(`${stack.url}/predict`, { body: { texts: body }, agent, timeoutMs: 45_000 });
          const key = res.status ? String(res.status) : `no answer: ${res.error}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
          if (res.status === 429) {
            await sleep(Number(res.headers['retry-after'] ?? 1) * 1000);
            continue;
          }
          const problem = predictionProblem(res, body);
          if (problem) problems.push(`client ${id} request ${n}: ${problem}`);
          else {
            latencies.push(res.ms);
            texts += body.length;
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
      const elapsed = (Date.now() - started) / 1000;
      agent.destroy();

      const total = Object.values(statuses).reduce((a, b) => a + b, 0);
      const ok = statuses['200'] ?? 0;
      // Jobs carry one or more requests; the worker counts the requests its completed jobs answered.
      const jobsDone = metricValue(await (await fetch(workerMetrics)).text(), 'tagserve_worker_requests_total', { outcome: 'completed' }) ?? 0;
      const fmt = (p: number) => `${percentile(latencies, p).toFixed(1)} ms`;
      console.log(
        [
          `load: ${CLIENTS} clients, ${elapsed.toFixed(1)} s, ${total} requests (${(total / elapsed).toFixed(0)} req/s, ${(texts / elapsed).toFixed(0)} texts/s)`,
          `  statuses ${JSON.stringify(statuses)}; errors ${problems.length}; lost jobs ${ok - jobsDone} (worker completed jobs for ${jobsDone} requests, ${ok} answers)`,
          `  latency p50 ${fmt(50)}, p90 ${fmt(90)}, p99 ${fmt(99)}, max ${fmt(100)}`,
        ].join('\n'),
      );

      expect(problems.slice(0, 10)).toEqual([]);
      expect(Object.keys(statuses).filter((s) => s !== '200' && s !== '429')).toEqual([]);
      expect(ok).toBeGreaterThan(CLIENTS); // every client got through more than once
      // Nothing lost, nothing done twice: the requests answered by the worker's completed jobs are exactly the 200s.
      expect(jobsDone).toBe(ok);
      const redis = stack.redis.client();
      try {
        expect(await redis.llen(stack.key('wait'))).toBe(0);
        expect(await redis.llen(stack.key('active'))).toBe(0);
        expect(await redis.zcard(stack.key('failed'))).toBe(0);
      } finally {
        redis.disconnect();
      }
    },
    DURATION_MS + 120_000,
  );
});
