import type Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { HttpResult, send } from './support/http';
import { LABELS, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

// The course's holdout.csv (the file scripts/train.ts reads by default), kept here so the test runs offline.
const HOLDOUT = join(__dirname, 'fixtures/holdout.csv');
const csv = (body: string | Buffer, contentType = 'text/csv') => ({ body, headers: { 'content-type': contentType } });
const encoded = (body: string | Buffer, encoding: string) => ({ body, headers: { 'content-type': 'text/csv', 'content-encoding': encoding } });
/** Announces 64 MB and sends a few bytes: refused on the header, not after a wait for the rest. */
const overLimit = () => ({ body: 'title,description\n', headers: { 'content-type': 'text/csv', 'content-length': String(64 * 1024 * 1024) }, timeoutMs: 5000 });

/** POST /jobs, GET/DELETE /jobs/{id}, result.csv and POST /evaluate against real processes and the real model. */
describe('bulk jobs', () => {
  let stack: Stack;
  let redis: Redis;

  beforeAll(async () => {
    // JOB_RESULT_TTL 20 s: every test reads its results well within it, the last one waits it out.
    // PREDICT_TIMEOUT_MS 5 s: how long /evaluate waits for its job before answering 202.
    // JOBS_BODY_LIMIT 1 MB: room for every body here but the ones made to cross it.
    stack = await Stack.create({ JOBS_MAX_TEXTS: '5000', JOB_RESULT_TTL: '20', PREDICT_TIMEOUT_MS: '5000', JOBS_BODY_LIMIT: '1mb' });
    await stack.startApi();
    redis = stack.redis.client();
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  const getJob = (id: string, query = '') => send(`${stack.url}/jobs/${id}${query}`, { method: 'GET' });
  const finished = (id: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const res = await getJob(id);
        return ['completed', 'failed', 'canceled'].includes(res.body?.data?.state) && res.body.data.finished_at ? res : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `job ${id} finished` },
    );
  const submit = async (texts: Array<{ text: string }>): Promise<string> => {
    const res = await send(`${stack.url}/jobs`, { body: { texts } });
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/jobs/${res.body.data.id}`);
    return res.body.data.id;
  };

  it('answers /evaluate with 202 and the Location when its job does not finish within PREDICT_TIMEOUT_MS', async () => {
    // Still no worker: the job cannot finish.
    const res = await send(`${stack.url}/evaluate`, csv('title,description,tag\nA,B,mlops\n'));
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/jobs/${res.body.data.id}`);
    expect(res.body.data).toMatchObject({ kind: 'evaluate', state: 'queued' });
    expect(res.ms).toBeGreaterThanOrEqual(4900);
    const early = await send(`${stack.url}/jobs/${res.body.data.id}/result.csv`, { method: 'GET' });
    expect(early.status).toBe(409);
    expect(early.body.error).toContain('no result yet');
  });

  it('cancels the chunks that have not run: 200 canceled, nothing left queued, then 409', async () => {
    // No worker yet: every chunk waits (beside the one of the evaluate job above).
    const queuedBefore = await redis.llen(`${stack.prefix}:bulk-chunks:wait`);
    const id = await submit(sampleTexts(100, 'cancel'));
    expect((await getJob(id)).body.data).toMatchObject({ state: 'queued', progress: { texts_done: 0, texts_total: 100, chunks_done: 0, chunks_total: 4 } });
    expect(await redis.llen(`${stack.prefix}:bulk-chunks:wait`)).toBe(queuedBefore + 4);

    const canceled = await send(`${stack.url}/jobs/${id}`, { method: 'DELETE' });
    expect(canceled.status).toBe(200);
    expect(canceled.body.data.state).toBe('canceled');
    expect(canceled.body.data.canceled_at).toEqual(expect.any(String));
    expect(await redis.llen(`${stack.prefix}:bulk-chunks:wait`)).toBe(queuedBefore);
    expect((await send(`${stack.url}/jobs/${id}`, { method: 'DELETE' })).status).toBe(409);

    await stack.startWorker();
    const done = await finished(id);
    expect(done.body.data).toMatchObject({ state: 'canceled', progress: { texts_done: 0 } });
    expect(done.body.data.predictions).toBeUndefined();
  });

  it('tags JSON texts: progress, model version, pages in input order, the same answers as /predict, result.csv', async () => {
    const texts = sampleTexts(150, 'bulk');
    const id = await submit(texts);
    const done = await finished(id);
    expect(done.body.data).toMatchObject({ kind: 'tag', state: 'completed', progress: { texts_done: 150, texts_total: 150, chunks_done: 5, chunks_total: 5 } });
    expect(done.body.data.model_versions).toEqual([expect.stringMatching(/\.dir$/)]);
    expect(done.body.data.predictions).toHaveLength(100);
    expect(done.body.data.next_offset).toBe(100);

    const page = await getJob(id, '?offset=140&limit=20');
    expect(page.body.data.predictions.map((p: { index: number }) => p.index)).toEqual([140, 141, 142, 143, 144, 145, 146, 147, 148, 149]);
    expect(page.body.data.next_offset).toBeNull();
    const direct = await send(`${stack.url}/predict`, { body: { texts: texts.slice(140, 150) } });
    page.body.data.predictions.forEach((p: { input_text: string; predicted_tag: string; predicted_probabilities: Record<string, number> }, i: number) => {
      expect(p.input_text).toBe(texts[140 + i].text);
      expect(p.predicted_tag).toBe(direct.body.data.predictions[i].predicted_tag);
      for (const label of LABELS) expect(p.predicted_probabilities[label]).toBeCloseTo(direct.body.data.predictions[i].predicted_probabilities[label], 4);
    });

    const file = await send(`${stack.url}/jobs/${id}/result.csv`, { method: 'GET' });
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toContain('text/csv');
    const lines = file.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(['index', 'input_text', 'predicted_tag', ...LABELS].join(','));
    expect(lines).toHaveLength(151);
    expect(lines[141].startsWith(`140,${texts[140].text},${direct.body.data.predictions[0].predicted_tag},`)).toBe(true);

    expect((await send(`${stack.url}/jobs/${id}`, { method: 'DELETE' })).status).toBe(409);
  });

  it('runs /predict ahead of a bulk job queued before it', async () => {
    const id = await submit(sampleTexts(1000, 'big'));
    await waitFor(async () => (await getJob(id)).body.data.progress.chunks_done > 0, { what: 'the bulk job running' });
    const res = await send(`${stack.url}/predict`, { body: { texts: sampleTexts(1, 'urgent') } });
    expect(res.status).toBe(200);
    // Answered while the job, queued first, still has most of its chunks to run.
    const during = (await getJob(id)).body.data;
    expect(during.state).toBe('active');
    expect(during.progress.chunks_done).toBeLessThan(during.progress.chunks_total / 2);
    expect((await finished(id, 120_000)).body.data.state).toBe('completed');
  });

  it('takes a CSV file like dataset.csv and evaluates a labelled one with the metrics /performance reports', async () => {
    const holdout = readFileSync(HOLDOUT);
    const tagged = await send(`${stack.url}/jobs`, csv(holdout));
    expect(tagged.status).toBe(202);
    expect((await finished(tagged.body.data.id)).body.data.progress.texts_total).toBe(191);

    const evaluated = await send(`${stack.url}/evaluate`, csv(holdout));
    expect(evaluated.headers.location).toBe(`/jobs/${evaluated.body.data.id}`);
    // 200 with the metrics when done within PREDICT_TIMEOUT_MS; on a loaded machine, 202 and the metrics come with the job.
    expect([200, 202]).toContain(evaluated.status);
    const report = evaluated.status === 200 ? evaluated.body.data.performance : (await finished(evaluated.body.data.id)).body.data.performance;
    const served = (await send(`${stack.url}/performance`, { method: 'GET' })).body.data;
    expect(report.model_versions).toEqual([served.model_version]);
    expect(report.overall.num_samples).toBe(191);
    expect(report.num_unknown_tags).toBe(0);
    // The same holdout file through the served model scores what training measured on it.
    expect(report.overall.f1).toBeCloseTo(served.performance.overall.f1, 2);
    for (const label of LABELS) expect(report.class[label].f1).toBeCloseTo(served.performance.class[label].f1, 2);
  });

  it.each<[string, () => Promise<HttpResult>, number, string]>([
    ['a CSV without the columns', () => send(`${stack.url}/jobs`, csv('name,text\na,b\n')), 422, 'missing title, description'],
    ['an empty CSV', () => send(`${stack.url}/jobs`, csv('')), 422, 'empty'],
    ['a Latin-1 CSV', () => send(`${stack.url}/jobs`, csv(Buffer.from('title,description\ncaf\xe9,cr\xe8me\n', 'latin1'))), 422, 'not valid UTF-8'],
    ['a CSV declared in another charset', () => send(`${stack.url}/jobs`, csv('title,description\na,b\n', 'text/csv; charset=windows-1252')), 415, 'UTF-8'],
    ['too many rows', () => send(`${stack.url}/jobs`, csv(`title,description\n${'a,b\n'.repeat(5001)}`)), 422, 'more than 5000 rows'],
    ['too many JSON texts', () => send(`${stack.url}/jobs`, { body: { texts: sampleTexts(5001) } }), 422, 'at most 5000 items'],
    ['an unlabelled CSV to /evaluate', () => send(`${stack.url}/evaluate`, csv('title,description\na,b\n')), 422, 'missing tag'],
    ['JSON to /evaluate', () => send(`${stack.url}/evaluate`, { body: { texts: sampleTexts(1) } }), 415, 'text/csv'],
    ['plain text to /jobs', () => send(`${stack.url}/jobs`, csv('hello', 'text/plain')), 415, 'application/json'],
    ['a CSV declared gzip that is not', () => send(`${stack.url}/jobs`, encoded('title,description\na,b\n', 'gzip')), 400, 'could not decode'],
    ['a CSV in an unknown Content-Encoding', () => send(`${stack.url}/jobs`, encoded('title,description\na,b\n', 'compress')), 415, 'content encoding'],
    ['a CSV declaring a Content-Length over JOBS_BODY_LIMIT', () => send(`${stack.url}/jobs`, overLimit()), 413, 'larger than'],
    [
      'a gzip CSV bomb, over JOBS_BODY_LIMIT once decompressed',
      () => send(`${stack.url}/jobs`, encoded(gzipSync(`title,description\n${`${'a'.repeat(900)},b\n`.repeat(2000)}`), 'gzip')),
      413,
      'larger than',
    ],
    ['an unknown job id', () => getJob('0b6f3e0c-3c55-4d5e-9a39-3f0c2c1e7f10'), 404, 'No job'],
    ['a job id of another kind', () => getJob('not-a-uuid'), 404, 'No job'],
    ['cancelling an unknown job', () => send(`${stack.url}/jobs/0b6f3e0c-3c55-4d5e-9a39-3f0c2c1e7f10`, { method: 'DELETE' }), 404, 'No job'],
  ])('refuses %s with a clear 4xx', async (_, request, status, message) => {
    const res = await request();
    expect(res.status).toBe(status);
    expect(res.body.error).toContain(message);
  });

  it('reads a CSV sent gzip- or br-compressed', async () => {
    const body = `title,description\n${sampleTexts(3, 'zipped')
      .map(({ text }) => `"${text}",""`)
      .join('\n')}\n`;
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(body)],
      ['br', brotliCompressSync(body)],
    ] as const) {
      const res = await send(`${stack.url}/jobs`, encoded(bytes, encoding));
      expect(res.status).toBe(202);
      expect(res.body.data.progress.texts_total).toBe(3);
    }
  });

  it('refuses bad paging', async () => {
    const id = await submit(sampleTexts(40, 'paging'));
    expect((await getJob(id, '?limit=0')).status).toBe(422);
    expect((await getJob(id, '?offset=-1')).status).toBe(422);
    await finished(id);
    expect((await getJob(id, '?limit=1001')).status).toBe(422);
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await send(`${stack.url}/docs-json`, { method: 'GET' })).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/result.csv', '/evaluate']));
    expect(Object.keys(doc.paths['/jobs'].post.requestBody.content)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(doc.paths['/jobs/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
    expect(doc.paths['/jobs/{id}'].delete.responses).toHaveProperty('409');
    expect(doc.components.schemas.JobDto.properties.state.enum).toEqual(['queued', 'active', 'completed', 'failed', 'canceled']);
  });

  it('forgets a finished job JOB_RESULT_TTL after it finished: 404', async () => {
    const id = await submit(sampleTexts(5, 'ttl'));
    const done = (await finished(id)).body.data;
    const expiresAt = Date.parse(done.expires_at);
    expect(expiresAt - Date.parse(done.finished_at)).toBe(20_000);
    await waitFor(async () => (await getJob(id)).status === 404, { timeoutMs: 30_000, intervalMs: 500, what: 'the job expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect((await send(`${stack.url}/jobs/${id}/result.csv`, { method: 'GET' })).status).toBe(404);
  });
});
