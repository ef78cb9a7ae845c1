import request from 'supertest';
import { LABELS } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

const NLP_TEXT = 'Transfer learning with transformers for text classification.';

describe('POST /predict through api + worker processes and real Redis', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ MAX_TEXTS: '8', MAX_TEXT_LENGTH: '1000', BODY_LIMIT: '64kb' });
    await stack.startApi();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is live but not ready until a worker has loaded its model', async () => {
    await request(stack.url).get('/health/live').expect(200);
    const notReady = await request(stack.url).get('/health/ready').expect(503);
    expect(notReady.body.error?.workers ?? notReady.body.details?.workers).toMatchObject({ status: 'down' });

    await stack.startWorker();
    await stack.waitUntilReady();
    const ready = await request(stack.url).get('/health/ready').expect(200);
    expect(ready.body.details).toMatchObject({ redis: { status: 'up' }, workers: { status: 'up', count: 1 } });
  });

  it('GET / answers in the tagifai envelope', async () => {
    const res = await request(stack.url).get('/').expect(200);
    expect(res.body).toMatchObject({ message: 'OK', 'status-code': 200, method: 'GET', data: {} });
  });

  it(`tags "${NLP_TEXT}" as natural-language-processing`, async () => {
    const res = await request(stack.url)
      .post('/predict')
      .send({ texts: [{ text: NLP_TEXT }] })
      .expect(200);
    expect(res.body).toMatchObject({ message: 'OK', 'status-code': 200, method: 'POST', url: '/predict' });
    const [prediction] = res.body.data.predictions;
    expect(prediction.input_text).toBe(NLP_TEXT);
    expect(prediction.predicted_tag).toBe('natural-language-processing');
    expect(Object.keys(prediction.predicted_probabilities).sort()).toEqual(LABELS);
    const total = Object.values<number>(prediction.predicted_probabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 3);
    expect(prediction.predicted_probabilities['natural-language-processing']).toBeGreaterThan(0.5);
  });

  it('answers several texts in order', async () => {
    const texts = [
      'YOLO real-time object detection and image segmentation with convolutional networks.',
      NLP_TEXT,
      'Serving models in production: CI/CD, monitoring, feature stores and model registry.',
    ];
    const res = await request(stack.url)
      .post('/predict')
      .send({ texts: texts.map((text) => ({ text })) })
      .expect(200);
    const predictions = res.body.data.predictions;
    expect(predictions.map((p: { input_text: string }) => p.input_text)).toEqual(texts);
    expect(predictions[0].predicted_tag).toBe('computer-vision');
    expect(predictions[1].predicted_tag).toBe('natural-language-processing');
  });

  it('serves the artifact performance and training args', async () => {
    const perf = await request(stack.url).get('/performance').expect(200);
    expect(perf.body.data.model_version).toMatch(/^[0-9a-f]{32}\.dir$/);
    expect(perf.body.data.performance.overall.f1).toBeGreaterThan(0.8);
    expect(Object.keys(perf.body.data.performance.class).sort()).toEqual(LABELS);
    const args = await request(stack.url).get('/args').expect(200);
    expect(args.body.data.args).toEqual(expect.any(Object));
    expect(Object.keys(args.body.data.args).length).toBeGreaterThan(3);
  });

  it('documents the API with Swagger UI and OpenAPI JSON', async () => {
    await request(stack.url).get('/docs').expect(200).expect('Content-Type', /html/);
    const spec = await request(stack.url).get('/docs-json').expect(200);
    expect(spec.body.paths['/predict'].post).toBeDefined();
    expect(spec.body.components.schemas.PredictRequestDto).toBeDefined();
  });

  it('echoes a caller-provided request id', async () => {
    const res = await request(stack.url)
      .post('/predict')
      .set('X-Request-Id', 'e2e-trace-42')
      .send({ texts: [{ text: NLP_TEXT }] })
      .expect(200);
    expect(res.headers['x-request-id']).toBe('e2e-trace-42');
  });

  describe('rejects bad input with a clear 4xx, never a 500', () => {
    const json = (body: unknown) => JSON.stringify(body);
    const cases: Array<{ name: string; body: string; type?: string; status: number; error: RegExp }> = [
      { name: 'empty list', body: json({ texts: [] }), status: 422, error: /at least one/ },
      { name: 'missing texts', body: json({}), status: 422, error: /texts must be an array/ },
      { name: 'texts not a list', body: json({ texts: 'hello' }), status: 422, error: /texts must be an array/ },
      { name: 'non-string text', body: json({ texts: [{ text: 42 }] }), status: 422, error: /text must be a string/ },
      { name: 'null item', body: json({ texts: [null] }), status: 422, error: /must be an object/ },
      { name: 'string item', body: json({ texts: ['plain'] }), status: 422, error: /must be an object/ },
      { name: 'empty text', body: json({ texts: [{ text: '' }] }), status: 422, error: /text must not be empty/ },
      { name: 'blank text', body: json({ texts: [{ text: '   \n' }] }), status: 422, error: /text must not be blank/ },
      { name: 'unknown field', body: json({ texts: [{ text: 'a', extra: 1 }] }), status: 422, error: /extra should not exist/ },
      { name: 'too many texts', body: json({ texts: Array.from({ length: 9 }, () => ({ text: 'a' })) }), status: 422, error: /at most 8 items \(got 9\)/ },
      {
        name: 'text too long',
        body: json({ texts: [{ text: 'a' }, { text: 'x'.repeat(1001) }] }),
        status: 422,
        error: /texts\[1\]\.text must be at most 1000 characters/,
      },
      { name: 'malformed JSON', body: '{"texts": [', status: 400, error: /Malformed JSON/ },
      { name: 'JSON that is not an object', body: '"just a string"', status: 400, error: /Malformed JSON/ },
      {
        name: 'wrong content type',
        body: 'texts=hello',
        type: 'application/x-www-form-urlencoded',
        status: 415,
        error: /Content-Type must be application\/json/,
      },
      { name: 'text/plain body', body: json({ texts: [{ text: 'a' }] }), type: 'text/plain', status: 415, error: /application\/json/ },
      { name: 'oversized body', body: json({ texts: [{ text: 'y'.repeat(70 * 1024) }] }), status: 413, error: /too large/ },
    ];

    it.each(cases)('$name → $status', async ({ body, type, status, error }) => {
      const res = await request(stack.url)
        .post('/predict')
        .set('Content-Type', type ?? 'application/json')
        .send(body);
      expect(res.status).toBe(status);
      expect(res.body['status-code']).toBe(status);
      expect(res.body.error).toMatch(error);
    });

    it('answers 404 in the same envelope for unknown routes', async () => {
      const res = await request(stack.url).get('/nope').expect(404);
      expect(res.body).toMatchObject({ 'status-code': 404, message: 'Not Found' });
    });

    it('the api is still up and serving after all of that', async () => {
      await request(stack.url)
        .post('/predict')
        .send({ texts: [{ text: NLP_TEXT }] })
        .expect(200);
    });
  });
});

describe('gateway timeout', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ PREDICT_TIMEOUT_MS: '300' });
    await stack.startApi();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 504 with the job id when no worker finishes in time, and the job is kept', async () => {
    const res = await request(stack.url)
      .post('/predict')
      .send({ texts: [{ text: NLP_TEXT }] })
      .expect(504);
    expect(res.body.error).toMatch(/Prediction job \S+ did not finish within 300 ms/);
    const jobId = res.body.details.jobId;
    expect(jobId).toEqual(expect.any(String));
    const redis = stack.redis.client();
    try {
      expect(await redis.lrange(stack.key('wait'), 0, -1)).toContain(jobId);
    } finally {
      redis.disconnect();
    }
  });
});

describe('requests arriving together share jobs', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ MAX_TEXTS: '8', PREDICT_JOB_MAX_TEXTS: '5' });
    await stack.startApi();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('packs concurrent requests into fewer jobs (at most PREDICT_JOB_MAX_TEXTS texts each) and answers each with its own predictions', async () => {
    const requests = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 1 + (i % 3) }, (_, j) =>
        j % 2 === 0 ? `${NLP_TEXT} (request ${i}, text ${j})` : `Object detection with YOLO, request ${i} text ${j}`,
      ),
    );
    // No worker yet: every job waits, so the queue shows how the requests were packed.
    const answers = requests.map((texts) =>
      request(stack.url)
        .post('/predict')
        .send({ texts: texts.map((text) => ({ text })) }),
    );
    const pending = Promise.all(answers.map((a) => a.then((res) => res)));
    const redis = stack.redis.client();
    try {
      let jobIds: string[] = [];
      let data: Array<{ texts: string[]; requests: Array<{ texts: number }> }> = [];
      const queuedTexts = () => data.reduce((n, d) => n + d.texts.length, 0);
      await waitFor(
        async () => {
          jobIds = await redis.lrange(stack.key('wait'), 0, -1);
          data = await Promise.all(jobIds.map(async (id) => JSON.parse((await redis.hget(stack.key(id), 'data')) ?? '{}')));
          return queuedTexts() === 24;
        },
        { intervalMs: 20, what: 'all 24 texts queued' },
      );
      for (const d of data) {
        expect(d.texts.length).toBeLessThanOrEqual(5);
        expect(d.requests.reduce((n, r) => n + r.texts, 0)).toBe(d.texts.length);
      }
      expect(queuedTexts()).toBe(24);
      expect(jobIds.length).toBeLessThan(requests.length);
    } finally {
      redis.disconnect();
    }

    await stack.startWorker();
    const results = await pending;
    results.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.data.predictions.map((p: { input_text: string }) => p.input_text)).toEqual(requests[i]);
      res.body.data.predictions.forEach((p: { input_text: string; predicted_tag: string }) =>
        expect(p.predicted_tag).toBe(p.input_text.startsWith('Object detection') ? 'computer-vision' : 'natural-language-processing'),
      );
    });
  });
});
