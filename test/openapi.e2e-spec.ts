import Ajv from 'ajv';
import { BULK_QUEUE, CHUNK_QUEUE, PREDICTION_QUEUE } from '@tagserve/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { AppProcess, waitForStatus } from './support/app-process';
import { HttpResult, send } from './support/http';
import { LABELS, sampleTexts } from './support/predictions';
import { postHead, rawRequest } from './support/raw-http';
import { freePort } from './support/redis-server';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

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
  // Bulk bodies of 40 KB are refused with 413 (JSON on its Content-Length, CSV while streamed).
  JOBS_BODY_LIMIT: '32kb',
};
/** A labelled CSV for /evaluate: two rows, tags among the served labels. */
const LABELLED = `title,description,tag\nTransfer learning,for text classification,${LABELS[2]}\nObject detection,with convolutional networks,${LABELS[0]}\n`;
const CSV = { 'content-type': 'text/csv' };
/** A job id that names no job. */
const NO_SUCH_JOB = '00000000-0000-4000-8000-000000000000';
/** Two API keys, for the api with keys on: a job of one is the other's 404. */
const KEY_A = 'openapi-key-a-3c9e1f7d';
const KEY_B = 'openapi-key-b-8a2d6b0e';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

type Doc = { paths: Record<string, Record<string, { responses: Record<string, Response> }>>; components: { schemas: Record<string, Schema> } };
type Response = { content?: Record<string, { schema: Schema }>; headers?: Record<string, unknown> };
type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Object schemas that list properties but say nothing of others are closed: a body field the document does not name fails. */
function closed(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'example' ? v : closed(v)]));
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  // OpenAPI 3.0's `nullable` beside oneOf (no `type`) in JSON Schema terms: the schema, or null.
  if (copy.nullable === true && copy.type === undefined) {
    const { nullable: _nullable, ...rest } = copy;
    return { anyOf: [rest, { type: 'null' }] };
  }
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
  /** GET `path` (query included), recorded under its documented route (`as`, e.g. /args/{arg}; else the path without its query). */
  const get = async (path: string, url = stack.url, as = path.split('?')[0]) => record(`get ${as}`, await send(`${url}${path}`, { method: 'GET' }));
  const getArg = (arg: string, url = stack.url, query = '') => get(`/args/${arg}${query}`, url, '/args/{arg}');
  const predict = async (body: unknown, headers?: Record<string, string>, url = stack.url) =>
    record('post /predict', await send(`${url}/predict`, { body, headers, timeoutMs: 10_000 }));
  const postJobs = async (body: unknown, headers?: Record<string, string>, url = stack.url) =>
    record('post /jobs', await send(`${url}/jobs`, { body, headers, timeoutMs: 10_000 }));
  const evaluate = async (csv: string, headers: Record<string, string> = CSV, url = stack.url) =>
    record('post /evaluate', await send(`${url}/evaluate`, { body: csv, headers, timeoutMs: 15_000 }));
  /** `method` /jobs/{id}`suffix` (suffix '' or '/result.csv'), recorded under its documented route. */
  const onJob = async (method: 'GET' | 'DELETE', id: string, suffix = '', query = '', url = stack.url, headers?: Record<string, string>) =>
    record(`${method.toLowerCase()} /jobs/{id}${suffix}`, await send(`${url}/jobs/${id}${suffix}${query}`, { method, headers }));

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
    await getArg('C');
    await predict('{"texts": [');
    await predict('x', { 'content-type': 'text/plain' });
    await predict({ texts: [] });
    await predict({ texts: [{ text: 'x'.repeat(20_000) }] }); // 413 (16 KB)
    record('post /predict', await rawRequest(stack.port, [postHead({ 'Content-Length': 50 }), '{"texts"'], 5000)); // 408
    await postJobs('{"texts": [');
    await postJobs('x', { 'content-type': 'text/plain' });
    await postJobs({ texts: [] });
    await postJobs({ texts: [{ text: 'x'.repeat(40_000) }] }); // 413 (32 KB)
    record('post /jobs', await rawRequest(stack.port, [postHead({ 'Content-Length': 50 }, '/jobs'), '{"texts"'], 5000)); // 408
    const queued = await postJobs({ texts: sampleTexts(2, 'queued') }); // 202
    expect((await onJob('GET', queued.body.data.id)).body.data.state).toBe('queued');
    await onJob('GET', queued.body.data.id, '', '?limit=0'); // 422
    await onJob('GET', queued.body.data.id, '/result.csv'); // 409: not completed
    expect((await onJob('DELETE', queued.body.data.id)).body.data.state).toBe('canceled');
    for (const suffix of ['', '/result.csv']) await onJob('GET', NO_SUCH_JOB, suffix); // 404
    await onJob('DELETE', NO_SUCH_JOB);
    await evaluate(LABELLED, { 'content-type': 'text/csv; charset=latin1' }); // 415
    await evaluate(LABELLED, { ...CSV, 'content-encoding': 'gzip' }); // 400: not gzip
    await evaluate('title,description\nA,B\n'); // 422: no tag column
    await evaluate(`title,description,tag\n${'A,B,mlops\n'.repeat(4000)}`); // 413: 40 KB
    // 504: no worker within 4 s, the job stays queued; /evaluate waits as long and answers 202.
    await Promise.all([predict({ texts: sampleTexts(1, 'timeout') }), evaluate(LABELLED)]);

    // Workers whose jobs fail for good: /predict answers 502 (its worker also takes the job left by the 504). A bulk
    // job whose chunk failed for good (failParentOnFailure) is failed by the next worker of the bulk queue, as a real
    // worker does, without running its processor (BullMQ's deferred failure): /evaluate answers 502.
    const connection = { host: '127.0.0.1', port: stack.redis.port, maxRetriesPerRequest: null };
    const failing = [PREDICTION_QUEUE, CHUNK_QUEUE, BULK_QUEUE].map(
      (queue) => new Worker(queue, async () => Promise.reject(new UnrecoverableError('model exploded')), { prefix: PREFIX, connection }),
    );
    await Promise.all(failing.map((w) => w.waitUntilReady()));
    // The job left by the 504 fails first: then the worker is surely taking jobs.
    const redis = stack.redis.client();
    const deadline = Date.now() + 30_000;
    while ((await redis.zcard(`${PREFIX}:${PREDICTION_QUEUE}:failed`)) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    redis.disconnect();
    await predict({ texts: sampleTexts(1, 'fail') });
    await evaluate(LABELLED); // 502
    await Promise.all(failing.map((w) => w.close()));

    // A real worker: every success.
    const worker = await stack.startWorker();
    await stack.waitUntilReady();
    await get('/health/ready');
    await get('/performance');
    const args = await get('/args');
    const someArg = Object.keys(args.body.data.args)[0];
    await getArg(someArg); // 200
    await getArg('no-such-arg'); // 404
    await get('/performance?filter=no-such-key'); // 404
    await get('/args?version=0123456789abcdef0123456789abcdef.dir'); // 404: not served
    await get('/performance?filter=overall&filter=class'); // 422: given twice
    await get('/args?version=a&version=b');
    await getArg(someArg, stack.url, '?version=a&version=b');
    const ok = await predict({ texts: sampleTexts(2, 'ok') });
    expect(Object.keys(ok.body.data.predictions[0].predicted_probabilities).sort()).toEqual(LABELS);
    const done = (await postJobs({ texts: sampleTexts(2, 'bulk') })).body.data.id;
    await waitFor(async () => (await send(`${stack.url}/jobs/${done}`, { method: 'GET' })).body?.data?.state === 'completed', {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the bulk job completed',
    });
    expect((await onJob('GET', done)).body.data.predictions).toHaveLength(2);
    expect((await onJob('GET', done, '/result.csv')).headers['content-type']).toContain('text/csv');
    await onJob('DELETE', done); // 409: finished
    // 200 when its job completes within PREDICT_TIMEOUT_MS; a loaded machine may need another try (a 202 is documented too).
    let evaluated = await evaluate(LABELLED);
    for (let i = 0; i < 2 && evaluated.status !== 200; i++) evaluated = await evaluate(LABELLED);
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
      for (let i = 0; i < 2; i++) await getArg('C', url);
      for (let i = 0; i < 2; i++) await predict({ texts: [] }, undefined, url);
      for (let i = 0; i < 2; i++) await postJobs({ texts: [] }, undefined, url);
      for (let i = 0; i < 2; i++) await evaluate('title,description\nA,B\n', CSV, url);
      for (const suffix of ['', '/result.csv']) for (let i = 0; i < 2; i++) await onJob('GET', NO_SUCH_JOB, suffix, '', url);
      for (let i = 0; i < 2; i++) await onJob('DELETE', NO_SUCH_JOB, '', '', url);
    } finally {
      await throttled.stop('SIGKILL');
    }

    // API keys on, on a third api: a job created with key A is key B's 404, on every route of a job.
    const keyedPort = await freePort();
    const keyed = AppProcess.start('api', { ...stack.env, PORT: String(keyedPort), API_KEYS: `${KEY_A},${KEY_B}` });
    try {
      const url = `http://127.0.0.1:${keyedPort}`;
      await waitForStatus(`${url}/health/live`, 200);
      const owned = (await postJobs({ texts: sampleTexts(1, 'owned') }, bearer(KEY_A), url)).body.data.id; // 202
      expect((await onJob('GET', owned, '', '', url, bearer(KEY_A))).status).toBe(200);
      for (const suffix of ['', '/result.csv']) expect((await onJob('GET', owned, suffix, '', url, bearer(KEY_B))).status).toBe(404);
      expect((await onJob('DELETE', owned, '', '', url, bearer(KEY_B))).status).toBe(404);
    } finally {
      await keyed.stop('SIGKILL');
    }

    // Redis gone: 503 with Retry-After.
    await stack.redis.stop();
    await get('/performance');
    await get('/args');
    await getArg('C');
    await get('/health/ready');
    await predict({ texts: sampleTexts(1, 'down') });
    await postJobs({ texts: sampleTexts(1, 'down') });
    await evaluate(LABELLED);
    for (const suffix of ['', '/result.csv']) await onJob('GET', done, suffix);
    await onJob('DELETE', done);
    await stack.redis.restart();

    const problems: string[] = [];
    for (const { route, status, body, headers } of seen) {
      const [method, path] = route.split(' ');
      const documented = doc.paths[path]?.[method]?.responses[String(status)];
      if (!documented) {
        problems.push(`${route} answered ${status}, undocumented`);
        continue;
      }
      if (headers['retry-after'] !== undefined && !documented.headers?.['Retry-After']) problems.push(`${route} ${status} sends Retry-After, undocumented`);
      const types = Object.keys(documented.content ?? {});
      const schema = documented.content?.['application/json']?.schema;
      if (!schema) {
        // A body documented as another type (result.csv: text/csv) has no JSON schema to meet, but must come as that type.
        if (types.length === 0) problems.push(`${route} ${status} has no schema`);
        else if (!types.some((type) => String(headers['content-type']).startsWith(type)))
          problems.push(`${route} ${status} came as ${headers['content-type']}, documented as ${types.join(', ')}`);
        continue;
      }
      const validate = ajv.compile({ ...closed(schema), components: closed(doc.components) });
      if (!validate(body)) problems.push(`${route} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const status of Object.keys(operation.responses)) {
          if (!seen.some((s) => s.route === `${method} ${path}` && String(s.status) === status))
            problems.push(`${method} ${path} documents ${status}, never seen here`);
        }
      }
    }
    expect(problems).toEqual([]);
    // Each failure mode was provoked as intended, not by accident.
    const statuses = (route: string) => [...new Set(seen.filter((s) => s.route === route).map((s) => s.status))].sort();
    expect(statuses('post /predict')).toEqual([200, 400, 408, 413, 415, 422, 429, 502, 503, 504]);
    expect(statuses('post /jobs')).toEqual([202, 400, 408, 413, 415, 422, 429, 503]);
    expect(statuses('post /evaluate')).toEqual([200, 202, 400, 413, 415, 422, 429, 502, 503]);
    expect(statuses('get /jobs/{id}')).toEqual([200, 404, 422, 429, 503]);
    expect(statuses('get /jobs/{id}/result.csv')).toEqual([200, 404, 409, 429, 503]);
    expect(statuses('delete /jobs/{id}')).toEqual([200, 404, 409, 429, 503]);
    expect(seen.find((s) => s.status === 429 && s.route === 'post /predict')?.headers['retry-after']).toBeDefined();
    // What a client reads: the 404 of a job says it may be another key's, DELETE's 409 that the job is finished.
    for (const [path, method] of [
      ['/jobs/{id}', 'get'],
      ['/jobs/{id}/result.csv', 'get'],
      ['/jobs/{id}', 'delete'],
    ])
      expect(doc.paths[path][method].responses['404']).toMatchObject({ description: expect.stringContaining("another key's job") });
    expect(doc.paths['/jobs/{id}'].delete.responses['409']).toMatchObject({ description: expect.stringContaining('finished') });
  });
});
