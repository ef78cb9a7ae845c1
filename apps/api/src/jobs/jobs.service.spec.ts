import { HttpException, Logger, NotFoundException } from '@nestjs/common';
import type { TagserveConfigService } from '@tagserve/config';
import { BULK_JOB, BulkJobData, BulkJobResult } from '@tagserve/queue';
import { FlowJob, FlowProducer, Job, Queue } from 'bullmq';
import { ApiKeys } from '../auth/api-keys';
import type { QueueConnection } from '../queue/queue-connection.service';
import { bulkState, JobsService } from './jobs.service';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-fedcba9876543210';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** JobsService over an in-memory stand-in for the one parent job BullMQ would hold. */
function service(keys: ApiKeys) {
  const stored: { job?: ReturnType<typeof fakeJob> } = {};
  const flows = {
    add: async (flow: FlowJob) => {
      stored.job = fakeJob(flow.opts!.jobId!, flow.data as BulkJobData);
      return {};
    },
  } as unknown as FlowProducer;
  const connection = { run: <T>(work: () => Promise<T>) => work() } as unknown as QueueConnection;
  const settings: Record<string, number> = { JOBS_CHUNK_SIZE: 32, JOB_RESULT_TTL: 60, JOB_ATTEMPTS: 1 };
  const config = { get: (name: string) => settings[name] } as unknown as TagserveConfigService;
  jest.spyOn(Job, 'fromId').mockImplementation(async (_queue, id) => (id === stored.job?.id ? (stored.job as unknown as Job) : undefined));
  const jobs = new JobsService(flows, {} as Queue<BulkJobData, BulkJobResult>, connection, keys, config);
  return { jobs, stored };
}

function fakeJob(id: string, data: BulkJobData) {
  return {
    id,
    name: BULK_JOB,
    data,
    timestamp: Date.now(),
    finishedOn: undefined,
    returnvalue: undefined,
    getState: async () => 'waiting-children',
    getDependenciesCount: async () => ({ processed: 0 }),
    getChildrenValues: async () => ({}),
    updateData: jest.fn(async (next: BulkJobData) => void (data.canceledAt = next.canceledAt)),
    removeUnprocessedChildren: jest.fn(async () => undefined),
  };
}

const input = { texts: ['Transfer learning for text classification', 'Object detection'] };
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** The status and body of what `work` throws, to compare a refusal with that of an unknown id. */
async function refusal(work: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotFoundException);
  return { status: (err as HttpException).getStatus(), body: (err as HttpException).getResponse() };
}

describe('JobsService: which key sees a bulk job', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.restoreAllMocks());

  it('keys on: records the creating key id (not the key), and answers any other key as for an unknown id', async () => {
    const keys = new ApiKeys([KEY_A, KEY_B]);
    const [a, b] = [keys.identify(bearer(KEY_A)), keys.identify(bearer(KEY_B))];
    const { jobs, stored } = service(keys);
    const { id } = await jobs.submit('tag', input, 'req-1', a);
    expect(stored.job!.data.owner).toBe(a);
    expect(JSON.stringify(stored.job!.data)).not.toContain(KEY_A);

    expect((await jobs.view(id, a)).state).toBe('queued');
    for (const work of [(i: string) => jobs.view(i, b), (i: string) => jobs.predictions(i, b), (i: string) => jobs.cancel(i, b)]) {
      const [theirs, none] = [await refusal(work(id)), await refusal(work(UNKNOWN_ID))];
      // Same status and message but for the id it names.
      expect(theirs.status).toBe(404);
      expect(JSON.stringify(theirs)).toBe(JSON.stringify(none).replace(UNKNOWN_ID, id));
    }
    // B's DELETE touched nothing; A's cancels.
    expect(stored.job!.updateData).not.toHaveBeenCalled();
    expect(stored.job!.removeUnprocessedChildren).not.toHaveBeenCalled();
    expect((await jobs.cancel(id, a)).state).toBe('canceled');
    expect(stored.job!.data.owner).toBe(a);
  });

  it('keys on: a job created while keys were off is refused to every key', async () => {
    const { jobs: open } = service(new ApiKeys([]));
    const { id } = await open.submit('tag', input, 'req-2', null);
    const keys = new ApiKeys([KEY_A]);
    const { jobs, stored } = service(keys);
    stored.job = fakeJob(id, { kind: 'tag', total: 2, chunkSize: 32, chunks: 1 });
    await refusal(jobs.view(id, keys.identify(bearer(KEY_A))));
  });

  it('keys off: no owner recorded, every caller sees every job (as before keys existed)', async () => {
    const { jobs, stored } = service(new ApiKeys([]));
    const { id } = await jobs.submit('evaluate', { ...input, tags: ['nlp', 'cv'] }, 'req-3', null);
    expect(stored.job!.data).not.toHaveProperty('owner');
    expect((await jobs.view(id, null)).id).toBe(id);
    stored.job!.data.owner = 'aaaaaaaaaaaa'; // created while keys were on
    expect((await jobs.view(id, null)).id).toBe(id);
  });
});

describe('bulkState', () => {
  const result = { done: 3, chunks: 1, modelVersions: ['v'] } as unknown as BulkJobResult;

  it("is completed only with the job's result: a job read before it completed is still being summed up", () => {
    // Job.fromId read the hash (no returnvalue yet), then getState found the job completed.
    expect(bulkState('completed', {}, undefined, 1)).toBe('active');
    expect(bulkState('completed', {}, result, 1)).toBe('completed');
  });

  it('names the other states as before', () => {
    expect(bulkState('failed', {}, undefined, 0)).toBe('failed');
    expect(bulkState('completed', { canceledAt: 1 }, result, 1)).toBe('canceled');
    expect(bulkState('waiting-children', {}, undefined, 0)).toBe('queued');
    expect(bulkState('waiting-children', {}, undefined, 2)).toBe('active');
  });
});
