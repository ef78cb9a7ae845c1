import { getQueueToken } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { consumerConnection, producerConnection, TagserveConfig, validateConfig } from '@tagserve/config';
import { PREDICT_JOB, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { QueueConnection } from '../queue/queue-connection.service';
import { CHECK_AFTER_MS, JobFailedError, JobLostError, jobState, JobTimeoutError, PredictionReplies } from './prediction-replies';

describe('jobState (the fallback when a reply was missed)', () => {
  const result = {
    predictions: [{ input_text: 'x', predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } }],
    worker: 'w',
    modelVersion: 'v',
    timings: { queueMs: 1, batchWaitMs: 0, modelMs: 2 },
  };
  const job = (fields: { finishedOn?: number; returnvalue?: unknown; failedReason?: string }) => ({
    finishedOn: undefined,
    returnvalue: null,
    failedReason: '',
    ...fields,
  });

  it('is undefined while the job is queued, running or waiting for a retry', () => {
    expect(jobState('g-1', job({}))).toBeUndefined();
    expect(jobState('g-1', job({ failedReason: 'first attempt failed' }))).toBeUndefined();
  });

  it('returns the recorded result of a completed job, also after a failed first attempt', () => {
    expect(jobState('g-1', job({ finishedOn: 1700000000005, returnvalue: result }))).toEqual(result);
    expect(jobState('g-1', job({ finishedOn: 1700000000005, returnvalue: result, failedReason: 'first attempt failed' }))).toEqual(result);
  });

  it('returns the failure of a job that failed for good', () => {
    const state = jobState('g-1', job({ finishedOn: 1700000000005, failedReason: 'model exploded' }));
    expect(state).toBeInstanceOf(JobFailedError);
    expect((state as Error).message).toBe('model exploded');
  });

  it('reports a job that is gone from Redis as lost', () => {
    const state = jobState('g-7', undefined);
    expect(state).toBeInstanceOf(JobLostError);
    expect((state as Error).message).toContain('g-7');
  });

  it('reports a finished job without a readable result as a failure, not a crash', () => {
    expect(jobState('g-1', job({ finishedOn: 2, returnvalue: '{not json' }))).toBeInstanceOf(JobFailedError);
  });
});

describe('PredictionReplies against a real Redis', () => {
  const prefix = `unit-replies-${process.pid}`;
  const result = (texts: string[]): PredictionJobResult => ({
    predictions: texts.map((text) => ({ input_text: text, predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } })),
    worker: 'bare-test-worker',
    modelVersion: 'v',
    timings: { queueMs: 0, batchWaitMs: 0, modelMs: 0 },
  });
  let redis: RedisServer;
  let admin: Redis;
  let settings: TagserveConfig;
  let moduleRef: TestingModule | undefined;
  let queue: Queue<PredictionJobData, PredictionJobResult>;
  let replies: PredictionReplies;
  let worker: Worker | undefined;

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    redis = await RedisServer.start();
    admin = redis.client();
    settings = validateConfig({ REDIS_PORT: String(redis.port), QUEUE_PREFIX: prefix });
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.dispose();
    jest.restoreAllMocks();
  });

  beforeEach(async () => {
    queue = new Queue(PREDICTION_QUEUE, { connection: producerConnection(settings), prefix });
    moduleRef = await Test.createTestingModule({
      providers: [
        PredictionReplies,
        QueueConnection,
        { provide: getQueueToken(PREDICTION_QUEUE), useValue: queue },
        { provide: ConfigService, useValue: { get: (key: keyof TagserveConfig) => settings[key] } },
      ],
    }).compile();
    await moduleRef.init();
    replies = moduleRef.get(PredictionReplies);
    await until('the reply channel to be subscribed', async () => ((await admin.pubsub('NUMSUB', replies.channel)) as [string, number])[1] === 1);
    await until('the queue connection to be ready', () => moduleRef!.get(QueueConnection).ready);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await moduleRef?.close();
    moduleRef = undefined;
    await queue.close();
  });

  /** A bare BullMQ worker that records outcomes in Redis but never publishes a reply. */
  async function startSilentWorker(process: (job: Job<PredictionJobData>) => Promise<PredictionJobResult>): Promise<Worker> {
    worker = new Worker(PREDICTION_QUEUE, process, { connection: consumerConnection(settings), prefix });
    await worker.waitUntilReady();
    return worker;
  }

  /** A job added and marked queued, as PredictionService does; returns its id and outcome. */
  async function queueJob(texts: string[], timeoutMs = 30_000): Promise<{ jobId: string; outcome: Promise<PredictionJobResult>; queuedAt: number }> {
    const jobId = replies.nextJobId();
    const outcome = replies.wait(jobId, timeoutMs);
    outcome.catch(() => undefined); // asserted by each test
    await queue.add(PREDICT_JOB, { texts, requests: [{ requestId: 'r', texts: texts.length }], replyTo: replies.channel }, { jobId, attempts: 1 });
    replies.queued(jobId);
    return { jobId, outcome, queuedAt: Date.now() };
  }

  /** The outcome, or a rejection after `ms`: a broken path fails the test in seconds, not at the job timeout. */
  function within<T>(outcome: Promise<T>, ms = 5000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no outcome within ${ms} ms`)), ms)));
    return Promise.race([outcome, deadline]).finally(() => clearTimeout(timer));
  }

  it('a published result resolves the waiter, a published failure rejects it, a malformed message is ignored', async () => {
    const [okId, failedId] = [replies.nextJobId(), replies.nextJobId()];
    const ok = replies.wait(okId, 30_000);
    const failed = replies.wait(failedId, 30_000);
    // Its rejection can come before the assertion below is reached: handled now, checked there.
    failed.catch(() => undefined);
    await admin.publish(replies.channel, '{"jobId": 12');
    await admin.publish(replies.channel, JSON.stringify({ jobId: okId, result: result(['x']) }));
    await admin.publish(replies.channel, JSON.stringify({ jobId: failedId, failedReason: 'model exploded' }));
    await expect(within(ok)).resolves.toEqual(result(['x']));
    await expect(within(failed)).rejects.toThrow(new JobFailedError('model exploded'));
  });

  it('a job completed without a reply is found by the sweep after CHECK_AFTER_MS', async () => {
    await startSilentWorker(async (job) => result(job.data.texts));
    const { outcome, queuedAt } = await queueJob(['a', 'b']);
    await expect(within(outcome)).resolves.toEqual(result(['a', 'b']));
    // Not earlier: only jobs not heard of for CHECK_AFTER_MS are looked up.
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(CHECK_AFTER_MS);
  });

  it('a job that failed for good without a reply is found by the sweep as a failure', async () => {
    await startSilentWorker(async () => {
      throw new UnrecoverableError('bad input');
    });
    const { outcome } = await queueJob(['a']);
    await expect(within(outcome)).rejects.toThrow(new JobFailedError('bad input'));
  });

  it('a job deleted from Redis is reported lost', async () => {
    const { jobId, outcome } = await queueJob(['a']);
    await queue.remove(jobId);
    await expect(within(outcome)).rejects.toBeInstanceOf(JobLostError);
  });

  it('after the subscriber reconnects, every waiting job is read from Redis at once (replies sent in the gap are lost)', async () => {
    await startSilentWorker(async (job) => result(job.data.texts));
    const completed = new Promise((resolve) => worker!.once('completed', resolve));
    const { jobId, outcome } = await queueJob(['a']);
    // Kept "just queued": the periodic sweep (jobs older than CHECK_AFTER_MS) never reads it, only a reconnect can.
    const young = setInterval(() => replies.queued(jobId), CHECK_AFTER_MS / 10);
    try {
      await completed;
      expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBe(1);
      await expect(within(outcome)).resolves.toEqual(result(['a']));
    } finally {
      clearInterval(young);
    }
  });

  it('a job that does not finish in time rejects with JobTimeoutError', async () => {
    const { jobId, outcome } = await queueJob(['a'], 150);
    await expect(within(outcome)).rejects.toThrow(new JobTimeoutError(`Prediction job ${jobId} did not finish within 150 ms`));
  });

  it('shutdown settles every waiter with JobLostError', async () => {
    const { outcome } = await queueJob(['a']);
    const notQueued = replies.wait(replies.nextJobId(), 30_000);
    notQueued.catch(() => undefined); // rejected by the close, asserted below
    await moduleRef!.close();
    moduleRef = undefined;
    await expect(within(outcome, 100)).rejects.toBeInstanceOf(JobLostError);
    await expect(within(notQueued, 100)).rejects.toBeInstanceOf(JobLostError);
  });
});
