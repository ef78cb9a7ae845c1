import { freePort } from './support/redis-server';
import { jsonLines, metricValue, send } from './support/http';
import { predictionProblem, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

/** Prometheus metrics on the api and on the worker move with predictions; JSON logs carry the request id end to end. */
describe('observability', () => {
  let stack: Stack;
  let workerMetrics: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await Stack.create({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' });
    await stack.startApi();
    await stack.startWorker({ WORKER_METRICS_PORT: String(metricsPort) });
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const scrape = async () => ({
    api: (await send(`${stack.url}/metrics`, { method: 'GET' })).text,
    worker: await (await fetch(workerMetrics)).text(),
  });

  it('exposes latency, queue depth, workers and inference time, and they move after predictions', async () => {
    const before = await scrape();
    const jobTimes = ['tagserve_job_queue_wait_seconds', 'tagserve_job_batch_wait_seconds', 'tagserve_job_model_seconds'];
    for (const name of ['tagserve_http_request_duration_seconds', 'tagserve_queue_jobs', 'tagserve_workers', ...jobTimes]) {
      expect(before.api).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    const workerJobTimes = ['tagserve_worker_job_queue_wait_seconds', 'tagserve_worker_job_batch_wait_seconds', 'tagserve_worker_job_model_seconds'];
    for (const name of ['tagserve_batch_size', 'tagserve_batch_inference_duration_seconds', 'tagserve_worker_jobs_total', ...workerJobTimes]) {
      expect(before.worker).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(metricValue(before.api, 'tagserve_workers')).toBe(1);

    const N = 5;
    for (let i = 0; i < N; i++) {
      const texts = sampleTexts(3, `obs${i}-`);
      expect(predictionProblem(await send(`${stack.url}/predict`, { body: { texts } }), texts)).toBeUndefined();
    }
    const after = await scrape();
    const delta = (text: 'api' | 'worker', name: string, labels: Record<string, string> = {}) =>
      (metricValue(after[text], name, labels) ?? 0) - (metricValue(before[text], name, labels) ?? 0);

    expect(delta('api', 'tagserve_http_request_duration_seconds_count', { route: '/predict', status: '200' })).toBe(N);
    expect(delta('api', 'tagserve_http_request_duration_seconds_sum', { route: '/predict' })).toBeGreaterThan(0);
    // Queue wait, batch wait and model time are reported apart, once per job, on both sides.
    for (const name of ['tagserve_job_queue_wait_seconds', 'tagserve_job_batch_wait_seconds', 'tagserve_job_model_seconds']) {
      expect(delta('api', `${name}_count`)).toBe(N);
      expect(delta('worker', `${name.replace('tagserve_job_', 'tagserve_worker_job_')}_count`)).toBe(N);
    }
    expect(delta('api', 'tagserve_job_model_seconds_sum')).toBeGreaterThan(0);
    expect(delta('api', 'tagserve_predicted_texts_total')).toBe(3 * N);
    expect(delta('api', 'tagserve_queue_jobs', { state: 'completed' })).toBe(N);
    expect(metricValue(after.api, 'tagserve_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(delta('worker', 'tagserve_batch_size_sum')).toBe(3 * N);
    expect(delta('worker', 'tagserve_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(delta('worker', 'tagserve_batch_inference_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta('worker', 'tagserve_worker_jobs_total', { outcome: 'completed' })).toBe(N);
  });

  it('queue depth shows waiting jobs while no worker runs', async () => {
    const [worker] = stack.workers;
    await worker.stop('SIGTERM');
    const pending = send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, 'depth') }, timeoutMs: 60_000 });
    const waiting = await waitFor(
      async () => metricValue((await send(`${stack.url}/metrics`, { method: 'GET' })).text, 'tagserve_queue_jobs', { state: 'waiting' }),
      { what: 'a waiting job in tagserve_queue_jobs' },
    );
    expect(waiting).toBe(1);
    expect(metricValue((await send(`${stack.url}/metrics`, { method: 'GET' })).text, 'tagserve_workers')).toBe(0);
    await stack.startWorker();
    expect((await pending).status).toBe(200);
  });

  it('logs structured JSON and the request id follows the job from the api to the worker', async () => {
    const id = 'obs-trace-7f3a';
    const texts = sampleTexts(2, 'trace');
    const res = await send(`${stack.url}/predict`, { body: { texts }, headers: { 'x-request-id': id } });
    expect(predictionProblem(res, texts)).toBeUndefined();
    expect(res.headers['x-request-id']).toBe(id);

    const worker = stack.workers[stack.workers.length - 1];
    await worker.waitForLog(new RegExp(id), 10_000);
    for (const proc of [stack.api!, worker]) {
      // Every line is a JSON object with level, timestamp and message.
      const lines = proc.output;
      expect(jsonLines(lines)).toHaveLength(lines.length);
      expect(jsonLines(lines).every((l) => l.level && l.timestamp && l.message !== undefined)).toBe(true);
    }
    const apiLines = jsonLines(stack.api!.output).filter((l) => l.message?.requestId === id);
    const workerLines = jsonLines(worker.output).filter((l) => l.message?.requestId === id);
    expect(apiLines.map((l) => l.message.msg)).toEqual(['job queued', 'job answered']);
    expect(workerLines.map((l) => l.message.msg)).toEqual(['job done']);
    // Same job on both sides.
    expect(workerLines[0].message.jobId).toBe(apiLines[0].message.jobId);
  });
});
