import type Redis from 'ioredis';
import { HttpResult, send } from './support/http';
import { LABELS, sampleTexts } from './support/predictions';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

const KEY_A = 'jobs-key-a-5e0c1d7b9a3f';
const KEY_B = 'jobs-key-b-2f8e6a4c0b1d';
const NO_SUCH_JOB = '00000000-0000-4000-8000-000000000000';
const LABELLED = `title,description,tag\nTransfer learning,for text classification,${LABELS[2]}\nObject detection,with convolutional networks,${LABELS[0]}\n`;

const auth = (key?: string): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

/** With API keys on, a bulk job is visible only to the key that created it: real api, worker and Redis. */
describe('bulk jobs with API keys: one key cannot see, fetch or cancel another key’s job', () => {
  let stack: Stack;
  let redis: Redis;
  /** A job submitted while keys were off, before the api was restarted with keys. */
  let legacyId: string;

  const onJob = (method: 'GET' | 'DELETE', id: string, key: string, suffix = '') => send(`${stack.url}/jobs/${id}${suffix}`, { method, headers: auth(key) });
  const submit = async (key: string | undefined, texts = sampleTexts(40, 'owned')): Promise<string> => {
    const res = await send(`${stack.url}/jobs`, { body: { texts }, headers: auth(key) });
    expect(res.status).toBe(202);
    return res.body.data.id;
  };
  const chunksWaiting = () => redis.llen(`${stack.prefix}:bulk-chunks:wait`);
  /** A 404 as the client sees it, without what differs from one request to the next (time, url, the id named). */
  const refusal = (res: HttpResult, id: string) => {
    const { timestamp: _timestamp, url: _url, ...rest } = res.body;
    return { status: res.status, ...rest, error: String(rest.error).replace(id, '<id>') };
  };
  /** What an unknown id gets on the same route: another key's job must get exactly that. */
  const asUnknown = async (method: 'GET' | 'DELETE', key: string, suffix = '') => refusal(await onJob(method, NO_SUCH_JOB, key, suffix), NO_SUCH_JOB);

  beforeAll(async () => {
    stack = await Stack.create({ JOB_RESULT_TTL: '300', PREDICT_TIMEOUT_MS: '5000' });
    redis = stack.redis.client();
    await stack.startApi();
    legacyId = await submit(undefined, sampleTexts(5, 'legacy'));
    await stack.api!.stop();
    await stack.startApi({ API_KEYS: `${KEY_A},${KEY_B}` });
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('key B gets the 404 of an unknown id on GET, result.csv and DELETE of key A’s job; the job is not canceled', async () => {
    // No worker yet: the job stays queued, so a DELETE that went through would show.
    const before = await chunksWaiting();
    const id = await submit(KEY_A);
    expect(await chunksWaiting()).toBe(before + 2);

    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/result.csv'],
      ['DELETE', ''],
    ] as const) {
      const res = await onJob(method, id, KEY_B, suffix);
      expect([method, suffix, refusal(res, id)]).toEqual([method, suffix, await asUnknown(method, KEY_B, suffix)]);
      expect(res.status).toBe(404);
    }
    // Nothing leaks through the query either.
    expect(refusal(await onJob('GET', id, KEY_B, '?offset=0&limit=1'), id)).toEqual(await asUnknown('GET', KEY_B));

    expect(await chunksWaiting()).toBe(before + 2);
    const seen = await onJob('GET', id, KEY_A);
    expect(seen.status).toBe(200);
    expect(seen.body.data).toMatchObject({ id, state: 'queued', canceled_at: null, progress: { chunks_total: 2 } });
    // A's own DELETE still has everything to cancel.
    const canceled = await onJob('DELETE', id, KEY_A);
    expect(canceled.status).toBe(200);
    expect(canceled.body.data.state).toBe('canceled');
    expect(await chunksWaiting()).toBe(before);
  });

  it('once completed: key A reads the predictions and result.csv, key B still gets 404; DELETE is 409 for A and 404 for B', async () => {
    await stack.startWorker();
    const texts = sampleTexts(40, 'completed');
    const id = await submit(KEY_A, texts);
    const done = await waitFor(
      async () => {
        const res = await onJob('GET', id, KEY_A);
        return res.body?.data?.state === 'completed' ? res : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, what: `job ${id} completed` },
    );
    expect(done.body.data.predictions).toHaveLength(40);
    const file = await onJob('GET', id, KEY_A, '/result.csv');
    expect(file.status).toBe(200);
    expect(file.text.trimEnd().split('\r\n')).toHaveLength(41);

    for (const suffix of ['', '/result.csv']) {
      const res = await onJob('GET', id, KEY_B, suffix);
      expect(refusal(res, id)).toEqual(await asUnknown('GET', KEY_B, suffix));
      expect(res.text).not.toContain(texts[0].text);
    }
    expect((await onJob('DELETE', id, KEY_A)).status).toBe(409);
    expect(refusal(await onJob('DELETE', id, KEY_B), id)).toEqual(await asUnknown('DELETE', KEY_B));
  });

  it('an /evaluate job belongs to the key that posted it: its Location answers that key only', async () => {
    const res = await send(`${stack.url}/evaluate`, { body: LABELLED, headers: { 'content-type': 'text/csv', ...auth(KEY_B) }, timeoutMs: 15_000 });
    expect([200, 202]).toContain(res.status);
    const id = res.body.data.id;
    expect(res.headers.location).toBe(`/jobs/${id}`);
    expect((await onJob('GET', id, KEY_B)).body.data).toMatchObject({ id, kind: 'evaluate' });
    expect(refusal(await onJob('GET', id, KEY_A), id)).toEqual(await asUnknown('GET', KEY_A));
  });

  it('a job created while keys were off is 404 to every key once they are on (no key can be said to have created it)', async () => {
    for (const key of [KEY_A, KEY_B]) {
      for (const suffix of ['', '/result.csv'])
        expect(refusal(await onJob('GET', legacyId, key, suffix), legacyId)).toEqual(await asUnknown('GET', key, suffix));
      expect(refusal(await onJob('DELETE', legacyId, key), legacyId)).toEqual(await asUnknown('DELETE', key));
    }
    // It is still there, untouched (it completes like any other job, the worker being up): only hidden.
    expect(await redis.exists(`${stack.prefix}:bulk-jobs:${legacyId}`)).toBe(1);
  });

  it('never stores a key in Redis: the job records a digest prefix of its key', async () => {
    const id = await submit(KEY_A, sampleTexts(1, 'digest'));
    const data = JSON.parse((await redis.hget(`${stack.prefix}:bulk-jobs:${id}`, 'data')) ?? '{}');
    expect(data.owner).toMatch(/^[0-9a-f]{12}$/);
    const dump = JSON.stringify(await redis.hgetall(`${stack.prefix}:bulk-jobs:${id}`));
    for (const key of [KEY_A, KEY_B]) expect(dump).not.toContain(key);
  });
});
