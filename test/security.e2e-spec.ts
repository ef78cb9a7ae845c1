import { send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';

const PASSWORD = 's3cret-redis-pass';

describe('security: helmet, body limit, rate limiting, Redis password', () => {
  const LIMIT = 5;
  let stack: Stack;

  beforeAll(async () => {
    // Redis with requirepass; api and worker get it through REDIS_PASSWORD.
    stack = await Stack.create({ THROTTLE_LIMIT: String(LIMIT), THROTTLE_TTL_MS: '60000', BODY_LIMIT: '16kb' }, { password: PASSWORD });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('sets helmet headers and hides x-powered-by, on success and on errors', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/nope'],
      ['GET', '/health/live'],
    ]) {
      const res = await send(`${stack.url}${path}`, { method });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('refuses bodies over BODY_LIMIT with 413', async () => {
    const res = await send(`${stack.url}/predict`, { body: { texts: [{ text: 'z'.repeat(17 * 1024) }] } });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/too large/);
  });

  it('works with a password-protected Redis', async () => {
    const texts = sampleTexts(2, 'auth');
    expect(predictionProblem(await send(`${stack.url}/predict`, { body: { texts } }), texts)).toBeUndefined();
  });

  it(`rate-limits /predict to THROTTLE_LIMIT=${LIMIT} per THROTTLE_TTL_MS with 429 + Retry-After`, async () => {
    const answers = [];
    for (let i = 0; i < LIMIT + 3; i++) answers.push(await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, `rl${i}-`) } }));
    const statuses = answers.map((r) => r.status);
    // The earlier /predict call of this file counts towards the same window.
    expect(statuses.filter((s) => s === 200).length).toBe(LIMIT - 1);
    expect(statuses.slice(LIMIT - 1)).toEqual([429, 429, 429, 429]);
    const limited = answers[answers.length - 1];
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ 'status-code': 429 });
  });

  it('never rate-limits health probes or metrics scrapes', async () => {
    for (let i = 0; i < LIMIT * 4; i++) {
      expect((await send(`${stack.url}/health/live`, { method: 'GET' })).status).toBe(200);
      expect((await send(`${stack.url}/metrics`, { method: 'GET' })).status).toBe(200);
    }
    expect((await send(`${stack.url}/health/ready`, { method: 'GET' })).status).toBe(200);
  });

  it('a wrong Redis password: api stays up, readiness and /predict say why (503), the worker logs it and keeps retrying', async () => {
    const wrong = { REDIS_PASSWORD: 'not-the-password' };
    // Its own api port, but pointed at the password-protected Redis above.
    const other = await Stack.create({ ...wrong, REDIS_PORT: String(stack.redis.port) });
    try {
      await other.startApi();
      const worker = other.spawnWorker();
      // The api has tried its connection and been refused.
      await other.api!.waitForLog(/WRONGPASS/, 10_000);
      const ready = await send(`${other.url}/health/ready`, { method: 'GET', timeoutMs: 10_000 });
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(5000);
      expect(JSON.stringify(ready.body)).toMatch(/WRONGPASS/);
      const predict = await send(`${other.url}/predict`, { body: { texts: sampleTexts(1, 'wrongpass') }, timeoutMs: 10_000 });
      expect(predict.status).toBe(503);
      expect(predict.body.error).toMatch(/Redis\) is unavailable.*WRONGPASS/);
      expect((await send(`${other.url}/health/live`, { method: 'GET' })).status).toBe(200);
      await worker.waitForLog(/WRONGPASS/, 20_000);
      await other.api!.waitForLog(/redis connection error.*WRONGPASS/, 5000);
      expect(other.api!.running).toBe(true);
      expect(worker.running).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
