import { PREDICTION_QUEUE } from '@tagserve/queue';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { AppProcess, waitForStatus } from './support/app-process';
import { metricValue, send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { postHead, rawRequest } from './support/raw-http';
import { freePort } from './support/redis-server';
import { Stack } from './support/stack';

/**
 * The classes of hostile requests an outside QA pass found answered wrongly (500s, a five-minute
 * hold, silently dropped keys, UTF-16 lengths, slow huge bodies, uncounted answers, a SIGTERM that
 * waited on a half-sent request), each against the real api, worker and Redis.
 */
const HTTP = { HTTP_BODY_TIMEOUT_MS: '1500', HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_SHUTDOWN_DRAIN_MS: '2000' };
const json = { 'content-type': 'application/json' };

describe('hardening: hostile requests get the answers the README promises', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ QUEUE_PREFIX: 'hardening', THROTTLE_LIMIT: '1000000', ...HTTP });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const predict = (body: unknown, headers: Record<string, string> = json) => send(`${stack.url}/predict`, { body, headers, timeoutMs: 20_000 });

  it('class 1: arrays (and nested arrays) as items of texts are 422, not 500', async () => {
    for (const texts of [[['a']], [[['a']]], [[{ text: 'a' }]], [{ text: 'ok' }, []], [[[[[]]]]]]) {
      const res = await predict({ texts });
      expect({ texts, status: res.status }).toEqual({ texts, status: 422 });
      expect(res.body.error).toMatch(/must be an object like/);
    }
  });

  it('class 2: a huge Content-Length is refused at once, a stalled or trickling body is cut within seconds', async () => {
    const huge = await rawRequest(stack.port, [postHead({ 'Content-Length': 600_000_000 }), '{"texts":'], 5000);
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ 'status-code': 413, url: '/predict' });
    expect(huge.ms).toBeLessThan(1000);
    expect(huge.headers.connection).toBe('close');

    // Chunked, no length given: refused as soon as the bytes received pass BODY_LIMIT (512 KB).
    const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
    const endless = await rawRequest(stack.port, [postHead({ 'Transfer-Encoding': 'chunked' }), ...Array(12).fill(chunk)], 5000);
    expect(endless.status).toBe(413);

    const stalled = await rawRequest(stack.port, [postHead({ 'Content-Length': 100 }), '{"texts":'], 8000);
    expect(stalled.status).toBe(408);
    expect(stalled.body).toMatchObject({ 'status-code': 408, error: expect.stringMatching(/within 1500 ms/) });
    expect(stalled.ms).toBeLessThan(3000);

    // One byte every 200 ms never idles long, yet the whole body must arrive within HTTP_BODY_TIMEOUT_MS.
    const body = JSON.stringify({ texts: [{ text: 'slow loris' }] });
    const trickle = await rawRequest(stack.port, [postHead({ 'Content-Length': body.length }), ...[...body].flatMap((c) => [c, { pauseMs: 200 }])], 8000);
    expect(trickle.status).toBe(408);
    expect(trickle.ms).toBeLessThan(3000);

    // Headers that never end: Node's headersTimeout (2 s here), checked every second; Node's own bare 408.
    const headers = await rawRequest(stack.port, ['POST /predict HTTP/1.1\r\nHost: x\r\n'], 8000);
    expect(headers.status).toBe(408);
    expect(headers.ms).toBeLessThan(4000);

    // A GET declaring a huge body is answered without reading it, and the connection is not kept for it.
    const get = await rawRequest(stack.port, ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 600000000\r\n\r\nab'], 5000);
    expect(get.status).toBe(200);
    expect(get.headers.connection).toBe('close');

    expect((await predict({ texts: [{ text: 'still answering' }] })).status).toBe(200);
  });

  it('class 3: prototype-named keys in an item or the body are unknown fields (422), never dropped', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype']) {
      const res = await predict(`{"texts":[{"text":"ok","${key}":{"text":"x"}}]}`);
      expect({ key, status: res.status }).toEqual({ key, status: 422 });
      expect(res.body.error).toContain(`property texts[0].${key} should not exist`);
      const top = await predict(`{"texts":[{"text":"ok"}],"${key}":1}`);
      expect({ key, status: top.status }).toEqual({ key, status: 422 });
    }
    const clean = await predict({ texts: [{ text: 'clean' }] });
    expect(clean.body.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).text).toBeUndefined();
  });

  it('class 4: characters are counted as characters (code points), not UTF-16 units', async () => {
    const texts = [{ text: '🤖'.repeat(5000) }]; // MAX_TEXT_LENGTH 5000 by default; 10,000 UTF-16 units
    expect(predictionProblem(await predict({ texts }), texts)).toBeUndefined();
    const over = await predict({ texts: [{ text: '🤖'.repeat(5001) }] });
    expect(over.status).toBe(422);
    expect(over.body.error).toBe('texts[0].text must be at most 5000 characters (got 5001)');
    const combining = [{ text: 'e\u0301'.repeat(2500) }]; // 5,000 code points: at the limit
    expect(predictionProblem(await predict({ texts: combining }), combining)).toBeUndefined();
  });

  it('class 5: 39,000 tiny items are refused on their count first, and error bodies stay small', async () => {
    const many = JSON.stringify({ texts: Array.from({ length: 39_000 }, () => ({ t: 1 })) });
    expect(many.length).toBeGreaterThan(300_000);
    const res = await predict(many);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('texts must contain at most 64 items (got 39000)');
    expect(res.text.length).toBeLessThan(1000);

    // 64 items, every one wrong twice: at most 10 problems are listed, the rest counted.
    const bad = await predict({ texts: Array.from({ length: 64 }, () => ({ t: 1 })) });
    expect(bad.status).toBe(422);
    expect(bad.body.details).toHaveLength(10);
    expect(bad.body.error).toMatch(/; and 118 more$/);
    expect(bad.text.length).toBeLessThan(2000);

    // An unknown key of 100 KB is not echoed back.
    const longKey = await predict(`{"texts":[{"text":"a","${'k'.repeat(100_000)}":1}]}`);
    expect(longKey.status).toBe(422);
    expect(longKey.text.length).toBeLessThan(1000);
  });

  it('gzip bodies are still read, and their inflated size counts against BODY_LIMIT', async () => {
    const texts = sampleTexts(2, 'gz');
    const ok = await send(`${stack.url}/predict`, { body: gzipSync(JSON.stringify({ texts })), headers: { ...json, 'content-encoding': 'gzip' } });
    expect(predictionProblem(ok, texts)).toBeUndefined();
    const bomb = gzipSync(JSON.stringify({ texts: [{ text: 'a'.repeat(2_000_000) }] })); // ~2 KB, 2 MB inflated
    const refused = await send(`${stack.url}/predict`, { body: bomb, headers: { ...json, 'content-encoding': 'gzip' } });
    expect(refused.status).toBe(413);
    const unknown = await send(`${stack.url}/predict`, { body: 'x', headers: { ...json, 'content-encoding': 'zstd-ish' } });
    expect(unknown.status).toBe(415);
  });

  it('class 7: /metrics counts every answer, those of the body reader included', async () => {
    const count = async (status: string) =>
      metricValue((await send(`${stack.url}/metrics`, { method: 'GET' })).text, 'tagserve_http_request_duration_seconds_count', {
        route: '/predict',
        status,
      }) ?? 0;
    const before = Object.fromEntries(await Promise.all(['400', '408', '413', '415', '422'].map(async (s) => [s, await count(s)])));
    await predict('{"texts":');
    await predict('x', { 'content-type': 'text/plain' });
    await predict({ texts: [] });
    await rawRequest(stack.port, [postHead({ 'Content-Length': 10_000_000 })], 3000);
    await rawRequest(stack.port, [postHead({ 'Content-Length': 10 }), '{'], 5000);
    for (const status of ['400', '408', '413', '415', '422']) expect({ status, n: (await count(status)) - before[status] }).toEqual({ status, n: 1 });
  });
});

describe('hardening: the api without Redis, and its shutdown', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ QUEUE_PREFIX: 'hardening-down', ...HTTP });
    await stack.startApi();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("class 7: /metrics serves the api's own metrics while Redis is down, queue gauges marked as missing", async () => {
    const up = await send(`${stack.url}/metrics`, { method: 'GET' });
    expect(metricValue(up.text, 'tagserve_queue_metrics_up')).toBe(1);
    expect(metricValue(up.text, 'tagserve_queue_jobs', { state: 'waiting' })).toBe(0);
    await stack.redis.stop();
    const down = await send(`${stack.url}/metrics`, { method: 'GET', timeoutMs: 5000 });
    expect(down.status).toBe(200);
    expect(down.ms).toBeLessThan(1500);
    expect(metricValue(down.text, 'tagserve_queue_metrics_up')).toBe(0);
    expect(metricValue(down.text, 'tagserve_queue_jobs')).toBeUndefined();
    expect(down.text).toMatch(/^tagserve_workers nan$/im); // prom-client writes "Nan"; Prometheus parses it as NaN
    expect(metricValue(down.text, 'tagserve_http_request_duration_seconds_count', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(down.text, 'tagserve_api_process_cpu_seconds_total')).toBeGreaterThan(0);
    await stack.redis.restart();
  });

  it('class 8 (api): SIGTERM answers a half-sent request at once and one waiting for a worker after the drain, then exits 0', async () => {
    const port = await freePort();
    const api = AppProcess.start('api', { ...stack.env, PORT: String(port), HTTP_BODY_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '30000' });
    await waitForStatus(`http://127.0.0.1:${port}/health/live`, 200);
    // No worker: this one waits for its job (PREDICT_TIMEOUT_MS 30 s) until the drain (2 s) ends.
    const waiting = send(`http://127.0.0.1:${port}/predict`, { body: { texts: [{ text: 'nobody will answer' }] }, timeoutMs: 20_000 });
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(postHead({ 'Content-Length': 1000, Expect: '100-continue' }));
    await new Promise((resolve) => socket.once('data', resolve)); // "100 Continue": the request has reached the app
    socket.write('{"texts":[{"te');
    // The predict request is in flight once its job is queued in Redis.
    const redis = stack.redis.client();
    const deadline = Date.now() + 5000;
    while ((await redis.llen(`hardening-down:${PREDICTION_QUEUE}:wait`)) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    redis.disconnect();
    const started = performance.now();
    const code = api.stop('SIGTERM', 10_000);
    await closed;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(answer).toMatch(/HTTP\/1\.1 503[\s\S]*The api is stopping/);
    const late = await waiting;
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toBe('1');
    expect(late.body).toMatchObject({ 'status-code': 503, url: '/predict' });
    expect(await code).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000 + 3000); // HTTP_SHUTDOWN_DRAIN_MS, plus closing the Redis connections
  });
});
