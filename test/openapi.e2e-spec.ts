import Ajv from 'ajv';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { AppProcess, waitForStatus } from './support/app-process';
import { HttpResult, send } from './support/http';
import { LABELS, sampleTexts } from './support/predictions';
import { postHead, rawRequest } from './support/raw-http';
import { freePort } from './support/redis-server';
import { Stack } from './support/stack';

/**
 * The OpenAPI document against the server: every status each route is made to return here
 * (success, every refusal, every failure mode) is documented for that route, with a schema the
 * real body satisfies exactly (no undocumented field), and Retry-After where documented; and
 * every documented status was seen. The request schema carries the configured limits.
 */
const PREFIX = 'openapi';
const ENV = {
  QUEUE_PREFIX: PREFIX,
  MAX_TEXTS: '5',
  MAX_TEXT_LENGTH: '300',
  BODY_LIMIT: '16kb',
  PREDICT_TIMEOUT_MS: '4000',
  QUEUE_MAX_WAITING: '2',
  JOB_ATTEMPTS: '1',
  HTTP_BODY_TIMEOUT_MS: '1000',
  THROTTLE_LIMIT: '1000000',
};

type Doc = { paths: Record<string, Record<string, { responses: Record<string, Response> }>>; components: { schemas: Record<string, Schema> } };
type Response = { content?: { 'application/json': { schema: Schema } }; headers?: Record<string, unknown> };
type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Object schemas that list properties but say nothing of others are closed: a body field the document does not name fails. */
function closed(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'example' ? v : closed(v)]));
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

describe('OpenAPI document matches what the server answers', () => {
  let stack: Stack;
  let doc: Doc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const seen: Array<{ route: string; status: number; body: unknown; headers: HttpResult['headers'] }> = [];

  const record = (route: string, res: Pick<HttpResult, 'status' | 'body' | 'headers'>) => {
    seen.push({ route, status: res.status, body: res.body, headers: res.headers });
    return res;
  };
  const get = async (path: string, url = stack.url) => record(`get ${path}`, await send(`${url}${path}`, { method: 'GET' }));
  const predict = async (body: unknown, headers?: Record<string, string>, url = stack.url) =>
    record('post /predict', await send(`${url}/predict`, { body, headers, timeoutMs: 10_000 }));

  beforeAll(async () => {
    stack = await Stack.create(ENV);
    await stack.startApi();
    doc = (await send(`${stack.url}/docs-json`, { method: 'GET' })).body;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('the request schema is closed and carries the configured limits; the tag is an enum of the served labels', () => {
    const { PredictRequestDto: request, TextInputDto: item, PredictionDto: prediction } = doc.components.schemas;
    expect(request).toMatchObject({ additionalProperties: false, required: ['texts'], properties: { texts: { minItems: 1, maxItems: 5 } } });
    expect(item).toMatchObject({ additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 300 } } });
    expect(prediction.properties.predicted_tag.enum).toEqual(LABELS);
    expect(Object.keys(prediction.properties.predicted_probabilities.properties)).toEqual(LABELS);
  });

  it('every status each route returns is documented, with its schema and headers, and nothing documented is unseen', async () => {
    // No worker yet.
    await get('/');
    await get('/health/live');
    await get('/health/ready'); // 503: no worker
    await get('/performance'); // 503: no model published
    await get('/args');
    await predict('{"texts": [');
    await predict('x', { 'content-type': 'text/plain' });
    await predict({ texts: [] });
    await predict({ texts: [{ text: 'x'.repeat(20_000) }] }); // 413 (16 KB)
    record('post /predict', await rawRequest(stack.port, [postHead({ 'Content-Length': 50 }), '{"texts"'], 5000)); // 408
    await predict({ texts: sampleTexts(1, 'timeout') }); // 504: no worker within 4 s; the job stays queued

    // A worker whose jobs fail for good: 502 (it also takes the job left by the 504).
    const failing = new Worker(PREDICTION_QUEUE, async () => Promise.reject(new UnrecoverableError('model exploded')), {
      prefix: PREFIX,
      connection: { host: '127.0.0.1', port: stack.redis.port, maxRetriesPerRequest: null },
    });
    await failing.waitUntilReady();
    // The job left by the 504 fails first: then the worker is surely taking jobs.
    const redis = stack.redis.client();
    const deadline = Date.now() + 30_000;
    while ((await redis.zcard(`${PREFIX}:${PREDICTION_QUEUE}:failed`)) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    redis.disconnect();
    await predict({ texts: sampleTexts(1, 'fail') });
    await failing.close();

    // A real worker: every success.
    const worker = await stack.startWorker();
    await stack.waitUntilReady();
    await get('/health/ready');
    await get('/performance');
    await get('/args');
    const ok = await predict({ texts: sampleTexts(2, 'ok') });
    expect(Object.keys(ok.body.data.predictions[0].predicted_probabilities).sort()).toEqual(LABELS);
    await worker.stop('SIGKILL');

    // Two jobs waiting with no worker (QUEUE_MAX_WAITING 2): the next request is 429 at once.
    await Promise.all([predict({ texts: sampleTexts(1, 'w1') }), predict({ texts: sampleTexts(1, 'w2') }), predict({ texts: sampleTexts(1, 'w3') })]);
    await predict({ texts: sampleTexts(1, 'full') });

    // The rate limit, on a second api limited to one request per route.
    const port = await freePort();
    const throttled = AppProcess.start('api', { ...stack.env, PORT: String(port), THROTTLE_LIMIT: '1' });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForStatus(`${url}/health/live`, 200);
      for (const path of ['/', '/performance', '/args']) for (let i = 0; i < 2; i++) await get(path, url);
      for (let i = 0; i < 2; i++) await predict({ texts: [] }, undefined, url);
    } finally {
      await throttled.stop('SIGKILL');
    }

    // Redis gone: 503 with Retry-After.
    await stack.redis.stop();
    await get('/performance');
    await get('/args');
    await get('/health/ready');
    await predict({ texts: sampleTexts(1, 'down') });
    await stack.redis.restart();

    const problems: string[] = [];
    for (const { route, status, body, headers } of seen) {
      const [method, path] = route.split(' ');
      const documented = doc.paths[path]?.[method]?.responses[String(status)];
      if (!documented) {
        problems.push(`${route} answered ${status}, undocumented`);
        continue;
      }
      const schema = documented.content?.['application/json'].schema;
      if (!schema) {
        problems.push(`${route} ${status} has no schema`);
        continue;
      }
      const validate = ajv.compile({ ...closed(schema), components: closed(doc.components) });
      if (!validate(body)) problems.push(`${route} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
      if (headers['retry-after'] !== undefined && !documented.headers?.['Retry-After']) problems.push(`${route} ${status} sends Retry-After, undocumented`);
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const status of Object.keys(operation.responses)) {
          if (!seen.some((s) => s.route === `${method} ${path}` && String(s.status) === status)) problems.push(`${method} ${path} documents ${status}, never seen here`);
        }
      }
    }
    expect(problems).toEqual([]);
    // Each failure mode was provoked as intended, not by accident.
    const statuses = (route: string) => [...new Set(seen.filter((s) => s.route === route).map((s) => s.status))].sort();
    expect(statuses('post /predict')).toEqual([200, 400, 408, 413, 415, 422, 429, 502, 503, 504]);
    expect(seen.find((s) => s.status === 429 && s.route === 'post /predict')?.headers['retry-after']).toBeDefined();
  });
});
