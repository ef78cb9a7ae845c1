import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from './support/app-process';
import { send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';

// Four keys: one from API_KEYS, three from API_KEYS_FILE (the last two only for the throttle test).
const KEY_ENV = 'env-key-7c1f0e9a5b2d4c38';
const KEY_FILE = 'file-key-0d9e8f7a6b5c4d3e';
const KEY_C = 'throttle-key-c-1a2b3c4d5e';
const KEY_D = 'throttle-key-d-6f7a8b9c0d';
const LIMIT = 5;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys: Bearer auth on every route but /health, per-key throttling, Swagger Authorize', () => {
  let stack: Stack;
  let dir: string;
  let keysFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagserve-api-keys-'));
    keysFile = join(dir, 'api-keys');
    writeFileSync(keysFile, `# one key per line\n${KEY_FILE}\n\n${KEY_C}\n${KEY_D}\n`);
    stack = await Stack.create({ API_KEYS: KEY_ENV, API_KEYS_FILE: keysFile, THROTTLE_LIMIT: String(LIMIT), THROTTLE_TTL_MS: '60000' });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady(); // /health/ready answers without a key
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a key: 401 with a Bearer challenge on every API route', async () => {
    for (const [method, path] of [
      ['POST', '/predict'],
      ['GET', '/'],
      ['GET', '/performance'],
      ['GET', '/args'],
    ]) {
      const res = await send(`${stack.url}${path}`, { method, body: method === 'POST' ? { texts: sampleTexts(1, 'nokey') } : undefined });
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="tagserve"');
      expect(res.body).toMatchObject({ 'status-code': 401, error: expect.stringMatching(/API key is required/) });
    }
  });

  it('with a wrong or malformed key: 401 with error="invalid_token"', async () => {
    for (const authorization of [`Bearer ${KEY_ENV}x`, `Basic ${KEY_ENV}`, KEY_ENV]) {
      const res = await send(`${stack.url}/predict`, { headers: { authorization }, body: { texts: sampleTexts(1, 'wrongkey') } });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="tagserve", error="invalid_token"');
    }
  });

  it('keys from API_KEYS and from API_KEYS_FILE both get predictions', async () => {
    for (const key of [KEY_ENV, KEY_FILE]) {
      const texts = sampleTexts(2, `key-${key.slice(0, 4)}`);
      expect(predictionProblem(await send(`${stack.url}/predict`, { headers: auth(key), body: { texts } }), texts)).toBeUndefined();
    }
  });

  it('probes and (METRICS_PUBLIC defaults to true) metrics need no key; Swagger UI loads without one', async () => {
    for (const path of ['/health/live', '/health/ready', '/HEALTH/live/', '/metrics', '/docs']) {
      expect([path, (await send(`${stack.url}${path}`, { method: 'GET' })).status]).toEqual([path, 200]);
    }
  });

  it('the OpenAPI document declares bearer auth for every operation (what the Authorize button uses)', async () => {
    const doc = (await send(`${stack.url}/docs-json`, { method: 'GET' })).body;
    expect(doc.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ 'api-key': [] }]);
  });

  it(`throttles per key: key C's ${LIMIT + 1}th request in the window is 429, key D from the same address is not`, async () => {
    const statuses = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await send(`${stack.url}/`, { method: 'GET', headers: auth(KEY_C) })).status);
    expect(statuses).toEqual([...Array(LIMIT).fill(200), 429]);
    expect((await send(`${stack.url}/`, { method: 'GET', headers: auth(KEY_D) })).status).toBe(200);
  });

  it('never writes a key to the logs', () => {
    const logs = stack.api!.output.join('\n');
    expect(logs).toMatch(/API keys required \(4 key\(s\)\)/);
    for (const key of [KEY_ENV, KEY_FILE, KEY_C, KEY_D]) expect(logs).not.toContain(key);
  });

  it('METRICS_PUBLIC=false: /metrics needs a key too', async () => {
    const other = await Stack.create({ API_KEYS: KEY_ENV, METRICS_PUBLIC: 'false', REDIS_PORT: String(stack.redis.port) });
    try {
      await other.startApi();
      expect((await send(`${other.url}/metrics`, { method: 'GET' })).status).toBe(401);
      expect((await send(`${other.url}/metrics`, { method: 'GET', headers: auth(KEY_ENV) })).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('a key file without keys stops the gateway at start-up, naming the file', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '# keys go here\n');
    const api = AppProcess.start('api', { ...stack.env, API_KEYS_FILE: empty });
    expect(await api.waitForExit()).toBe(1);
    expect(api.output.join('\n')).toContain(`API_KEYS_FILE ${empty} holds no key`);
  });
});
