import { readDvcFile } from '@tagserve/dvc-store';
import { AppProcess } from './support/app-process';
import { HttpResult, send, sleep } from './support/http';
import { sampleTexts } from './support/predictions';
import { Stack } from './support/stack';

/**
 * Model info per version: every /predict answer names its version; /performance and /args list
 * the versions served right now with their worker counts, filter as the original API did, and
 * come back by themselves after Redis loses them (FLUSHALL, or a restart without persistence).
 */
describe('model versions and model info', () => {
  // A beat every 300 ms; the info's refresh timer so long that only the beat or a reconnect can restore it.
  const BEAT_MS = 300;
  let stack: Stack;
  let versionA: string;
  let versionB: string;
  let workerA: AppProcess;

  const get = (path: string) => send(`${stack.url}${path}`, { method: 'GET' });
  /** Polls `path` until `accept` holds; fails with the last answer after `ms`. */
  const waitFor = async (path: string, accept: (res: HttpResult) => boolean, ms = 15_000): Promise<HttpResult> => {
    const deadline = Date.now() + ms;
    let res = await get(path);
    while (!accept(res)) {
      if (Date.now() > deadline) throw new Error(`GET ${path}: condition not met within ${ms} ms; last ${res.status} ${res.text}`);
      await sleep(100);
      res = await get(path);
    }
    return res;
  };
  const servedVersions = (res: HttpResult) =>
    (res.body?.data?.versions ?? []).map((v: { model_version: string; workers: number }) => `${v.model_version}=${v.workers}`);

  beforeAll(async () => {
    versionA = (await readDvcFile('stores/model.dvc')).md5;
    versionB = (await readDvcFile('stores/model-b.dvc')).md5;
    stack = await Stack.create({ QUEUE_PREFIX: 'e2e-model-info', WORKER_HEARTBEAT_MS: String(BEAT_MS), MODEL_INFO_REFRESH_MS: '600000' });
    await stack.startApi();
    workerA = await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('names the version that answered in data.model_version and the X-Model-Version header', async () => {
    const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(3) } });
    expect(res.status).toBe(200);
    expect(res.body.data.model_version).toBe(versionA);
    expect(res.headers['x-model-version']).toBe(versionA);
    expect(res.body.data.predictions).toHaveLength(3);
  });

  it('describes the served version, filters as the original API, and answers 404 in the envelope for unknown keys and versions', async () => {
    const full = await waitFor('/performance', (r) => r.status === 200);
    expect(full.body.data).toMatchObject({ model_version: versionA, workers: 1 });
    expect(servedVersions(full)).toEqual([`${versionA}=1`]);
    const { performance } = full.body.data;
    expect(performance.overall.f1).toBeGreaterThan(0.8);

    const overall = await get('/performance?filter=overall');
    expect(overall.body.data.performance).toEqual(performance.overall);
    expect((await get('/performance?filter=class')).body.data.performance).toEqual(performance.class);
    expect((await get('/performance?filter=class.mlops')).body.data.performance).toEqual(performance.class.mlops);
    expect((await get(`/performance?version=${versionA}`)).body.data.versions).toHaveLength(1);

    const args = await get('/args');
    expect(args.status).toBe(200);
    expect(args.body.data.args.dtype).toBe('int8'); // the encoder's weights; model B has no encoder
    const c = await get('/args/C');
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({ C: args.body.data.args.C, model_version: versionA, workers: 1 });
    expect((await get('/args/encoder.pooling')).body.data['encoder.pooling']).toBe(args.body.data.args.encoder.pooling);

    // The slices of the original performance.json (short texts, nlp_cnn), as the 2022 API filtered them.
    expect((await get('/performance?filter=slices')).body.data.performance).toEqual(performance.slices);
    expect(performance.slices.validation.nlp_cnn.num_samples).toBeGreaterThan(0);

    for (const path of ['/performance?filter=no-such-key', '/args/no-such-arg', '/performance?version=0000.dir', '/args/C?version=0000.dir']) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).toMatchObject({ 'status-code': 404, message: 'Not Found', url: path });
      expect(res.body.error).toEqual(expect.any(String));
    }
    expect((await get('/performance?filter=a&filter=b')).status).toBe(422);
  });

  it('lists every served version with its worker count, and drops a version as soon as its last worker is stopped', async () => {
    const workerB = await stack.startWorker({ MODEL_DVC_FILE: 'stores/model-b.dvc' });
    const workerA2 = await stack.startWorker();
    const both = await waitFor('/performance', (r) => servedVersions(r).length === 2 && r.body.data.workers === 2);
    // Most served first: A (2 workers) is the primary version, B (1 worker) second.
    expect(servedVersions(both)).toEqual([`${versionA}=2`, `${versionB}=1`]);
    expect(both.body.data.model_version).toBe(versionA);

    const onlyB = await get(`/performance?version=${versionB}&filter=accuracy`);
    expect(onlyB.status).toBe(200);
    expect(onlyB.body.data).toMatchObject({ model_version: versionB, workers: 1 });
    expect(onlyB.body.data.performance).toEqual(expect.any(Number));
    expect((await get(`/args/dtype?version=${versionB}`)).body.data.dtype).toBeNull();
    const dtypes = await get('/args/dtype');
    expect(dtypes.body.data.versions.map((v: { args: { dtype: string | null } }) => v.args.dtype)).toEqual(['int8', null]);

    const stoppedAt = Date.now();
    expect(await workerB.stop('SIGTERM')).toBe(0);
    stack.workers.splice(stack.workers.indexOf(workerB), 1);
    // The worker withdraws its entry before draining: no wait for its entry to expire (3 beats).
    const onlyA = await waitFor('/performance', (r) => servedVersions(r).length === 1);
    expect(servedVersions(onlyA)).toEqual([`${versionA}=2`]);
    console.log(`version B dropped from /performance ${Date.now() - stoppedAt} ms after SIGTERM to its only worker`);
    expect((await get(`/performance?version=${versionB}`)).status).toBe(404);

    expect(await workerA2.stop('SIGTERM')).toBe(0);
    await waitFor('/performance', (r) => servedVersions(r).join() === `${versionA}=1`);
  });

  it('documents the new field, header, routes and parameters in the OpenAPI document', async () => {
    const doc = (await get('/docs-json')).body;
    const predict200 = doc.paths['/predict'].post.responses['200'];
    expect(Object.keys(predict200.headers)).toContain('X-Model-Version');
    expect(doc.components.schemas.PredictionsDataDto.properties.model_version.type).toBe('string');
    const params = (path: string) => doc.paths[path].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort();
    expect(params('/performance')).toEqual(['query:filter', 'query:version']);
    expect(params('/args')).toEqual(['query:version']);
    expect(params('/args/{arg}')).toEqual(['path:arg', 'query:version']);
    // 422: a query parameter given twice; 429: the rate limit, as on every throttled route.
    for (const path of ['/performance', '/args', '/args/{arg}'])
      expect(Object.keys(doc.paths[path].get.responses).sort()).toEqual(['200', '404', '422', '429', '503']);
    const data = doc.components.schemas.PerformanceDataDto.properties;
    expect(Object.keys(data).sort()).toEqual(['loaded_at', 'model_version', 'performance', 'versions', 'workers']);
  });

  it('comes back by itself after FLUSHALL, through the worker beat (the refresh timer is 10 minutes)', async () => {
    const redis = stack.redis.client();
    try {
      await redis.flushall();
      const flushedAt = Date.now();
      const back = await waitFor('/performance', (r) => r.status === 200, 10_000);
      console.log(`/performance back ${Date.now() - flushedAt} ms after FLUSHALL (beat every ${BEAT_MS} ms)`);
      expect(servedVersions(back)).toEqual([`${versionA}=1`]);
      await workerA.waitForLog(/model info was gone from Redis, republished/, 1000);
    } finally {
      redis.disconnect();
    }
  });

  it('comes back by itself after Redis restarts empty, without restarting the worker', async () => {
    await stack.redis.stop();
    expect((await get('/performance')).status).toBe(503);
    await stack.redis.restart(); // not persistent: it comes back empty
    const restartedAt = Date.now();
    const back = await waitFor('/performance', (r) => r.status === 200, 20_000);
    console.log(`/performance back ${Date.now() - restartedAt} ms after Redis restarted empty`);
    expect(servedVersions(back)).toEqual([`${versionA}=1`]);
    expect(workerA.running).toBe(true);
    const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1) } });
    expect(res.status).toBe(200);
    expect(res.headers['x-model-version']).toBe(versionA);
  });
});
