import { Agent } from 'node:http';
import { HttpResult, send, sleep } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

/**
 * Redis crashes (SIGKILL) and comes back under load. Redis runs with AOF fsync on every write,
 * as a production queue should, so queued jobs survive. Every client gets a definite answer:
 * 200 with the right predictions, 503 while Redis is away, or at worst 504; never a hang or a 500.
 */
describe('Redis restarted under load', () => {
  const PREDICT_TIMEOUT_MS = 8000;
  // Longest possible answer: the bounded Redis waits (2 s each) plus the job wait, plus slack for a busy CI box.
  const CLIENT_TIMEOUT_MS = PREDICT_TIMEOUT_MS + 10_000;
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ PREDICT_TIMEOUT_MS: String(PREDICT_TIMEOUT_MS), STALLED_INTERVAL_MS: '1000' }, { persistent: true });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 503 while Redis is down, recovers by itself, and no request hangs or gets a 5xx other than 503/504', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const results: Array<{ at: number; res: HttpResult; problem?: string }> = [];
    let running = true;
    const client = async (id: number) => {
      for (let n = 0; running; n++) {
        const texts = sampleTexts(1 + (n % 3), `c${id}-${n}-`);
        const res = await send(`${stack.url}/predict`, { body: { texts }, agent, timeoutMs: CLIENT_TIMEOUT_MS });
        results.push({ at: Date.now(), res, problem: res.status === 200 ? predictionProblem(res, texts) : undefined });
        if (res.status !== 200) await sleep(100); // a client backing off, as Retry-After asks
      }
    };
    const clients = Array.from({ length: 10 }, (_, i) => client(i));

    // Under way: the clients are being answered (20 answers = each of the 10 clients twice on average).
    await waitFor(() => results.filter((r) => r.res.status === 200).length >= 20, { timeoutMs: 30_000, what: '20 answers before the crash' });
    await stack.redis.stop();
    const downAt = Date.now();
    // The gateway has noticed (its readiness says so) before the probes.
    await waitFor(async () => (await send(`${stack.url}/health/ready`, { method: 'GET', timeoutMs: 5000 })).status === 503, {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'readiness down after the crash',
    });
    // While it is down, every new request gets a quick, definite 503 (the looping clients may all be
    // waiting on jobs they queued before the crash, so fresh probes check this); readiness is down,
    // liveness unaffected.
    const probes: HttpResult[] = [];
    for (let i = 0; i < 4; i++) {
      probes.push(await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, `probe${i}`) }, timeoutMs: CLIENT_TIMEOUT_MS }));
      await sleep(200);
    }
    for (const probe of probes) {
      expect(probe.status).toBe(503);
      expect(probe.headers['retry-after']).toBeDefined();
      expect(probe.body.error).toMatch(/Redis\) is unavailable/);
      expect(probe.ms).toBeLessThan(3000);
    }
    expect((await send(`${stack.url}/health/ready`, { method: 'GET' })).status).toBe(503);
    expect((await send(`${stack.url}/health/live`, { method: 'GET' })).status).toBe(200);
    await sleep(1000); // the outage lasts a while longer: the looping clients live through it

    await stack.redis.restart();
    const upAt = Date.now();
    await stack.waitUntilReady();
    const readyMs = Date.now() - upAt;
    // Load keeps going after recovery: 50 more right answers (each client several times).
    await waitFor(() => results.filter((r) => r.res.status === 200 && r.at > upAt + readyMs).length >= 50, {
      timeoutMs: 30_000,
      what: '50 answers after recovery',
    });
    running = false;
    await Promise.all(clients);
    agent.destroy();

    const count = (pred: (r: (typeof results)[number]) => boolean) => results.filter(pred).length;
    const byStatus: Record<string, number> = {};
    for (const { res } of results) byStatus[res.status || `no answer (${res.error})`] = (byStatus[res.status || `no answer (${res.error})`] ?? 0) + 1;
    console.log(
      `redis restart: down ${upAt - downAt} ms, ready again ${readyMs} ms after restart; ${results.length} requests: ${JSON.stringify(byStatus)}, slowest answer ${Math.round(Math.max(...results.map((r) => r.res.ms)))} ms`,
    );

    expect(results.filter((r) => ![200, 503, 504].includes(r.res.status))).toEqual([]);
    expect(results.filter((r) => r.problem)).toEqual([]);
    expect(count((r) => r.res.status === 200 && r.at < downAt)).toBeGreaterThan(0);
    expect(count((r) => r.res.status === 200 && r.at > upAt + readyMs)).toBeGreaterThan(0);
    // Every answer came well before the client would have given up.
    expect(Math.max(...results.map((r) => r.res.ms))).toBeLessThan(CLIENT_TIMEOUT_MS);
    expect(stack.api!.running && stack.workers[0].running).toBe(true);
  });
});
