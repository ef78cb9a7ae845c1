import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { consumerConnection, TagserveConfig, validateConfig } from '@tagserve/config';
import type { Prediction } from '@tagserve/model/types';
import { ModelInfo, modelInfoKey, PREDICT_JOB, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult, PredictionReply } from '@tagserve/queue';
import { Job, Queue, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { RedisServer } from '../../../../test/support/redis-server';
import { deferred, Deferred, until } from '../../../../test/support/until';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ModelService } from '../model/model.service';
import { PredictionProcessor, WORKER_ID } from './prediction.processor';
import { PredictionWorker } from './prediction.worker';

/**
 * The micro-batcher as the worker uses it: every predictTimed call waits in `calls` until the test
 * answers it, and the backlog (texts not yet answered) is reported like InferenceBatcher does.
 */
class FakeBatcher {
  readonly calls: { texts: string[]; outcome: Deferred<Prediction[]> }[] = [];
  private readonly backlogListeners: ((texts: number) => void)[] = [];
  /** Answers each call as it comes, if set; otherwise the call waits for the test. */
  autoAnswer?: (texts: string[], call: number) => Promise<Prediction[]>;
  private backlog = 0;

  async predictTimed(texts: string[]): Promise<{ results: Prediction[]; timings: { batchWaitMs: number; modelMs: number } }> {
    const outcome = deferred<Prediction[]>();
    this.calls.push({ texts, outcome });
    this.setBacklog(this.backlog + texts.length);
    if (this.autoAnswer) this.autoAnswer(texts, this.calls.length).then(outcome.resolve, outcome.reject);
    try {
      return { results: await outcome.promise, timings: { batchWaitMs: 1, modelMs: 2 } };
    } finally {
      this.setBacklog(this.backlog - texts.length);
    }
  }

  onBacklog(listener: (texts: number) => void): void {
    this.backlogListeners.push(listener);
  }

  private setBacklog(texts: number): void {
    this.backlog = texts;
    for (const listener of this.backlogListeners) listener(texts);
  }
}

const predictionsFor = async (texts: string[]): Promise<Prediction[]> =>
  texts.map((text) => ({ input_text: text, predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } }));
const served = {
  version: 'md5-of-test-model.dir',
  info: { labels: ['mlops', 'other'], args: { C: 1 }, performance: { f1: 0.9 } },
  loadedAt: '2026-01-01T00:00:00.000Z',
};

describe('PredictionWorker with a fake model and a real Redis', () => {
  const prefix = `unit-worker-${process.pid}`;
  const replyTo = `${prefix}:test-replies`;
  let redis: RedisServer;
  let admin: Redis;
  let subscriber: Redis;
  let replies: PredictionReply[];
  let queue: Queue<PredictionJobData, PredictionJobResult>;
  let moduleRef: TestingModule;
  let worker: PredictionWorker;
  let batcher: FakeBatcher;
  let settings: TagserveConfig;
  const warn = jest.spyOn(Logger.prototype, 'warn');

  beforeAll(async () => {
    for (const level of ['log', 'error', 'debug'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    warn.mockImplementation(() => undefined);
    redis = await RedisServer.start();
    admin = redis.client();
    subscriber = redis.client();
    subscriber.on('message', (_channel: string, message: string) => replies.push(JSON.parse(message) as PredictionReply));
    await subscriber.subscribe(replyTo);
  });

  afterAll(async () => {
    subscriber?.disconnect();
    admin?.disconnect();
    await redis?.dispose();
    jest.restoreAllMocks();
  });

  /** A started PredictionWorker (as main.ts starts it) with the given settings. */
  async function startWorker(env: Record<string, string> = {}): Promise<void> {
    settings = validateConfig({
      REDIS_PORT: String(redis.port),
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: '8',
      BATCH_MAX_SIZE: '4',
      SHUTDOWN_GRACE_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
      ...env,
    });
    batcher = new FakeBatcher();
    moduleRef = await Test.createTestingModule({
      providers: [
        PredictionWorker,
        PredictionProcessor,
        WorkerMetricsService,
        { provide: ModelService, useValue: { model: served, batcher } },
        { provide: ConfigService, useValue: { get: (key: keyof TagserveConfig) => settings[key] } },
      ],
    }).compile();
    await moduleRef.init();
    worker = moduleRef.get(PredictionWorker);
    await worker.start();
    queue = new Queue(PREDICTION_QUEUE, { connection: consumerConnection(settings), prefix });
    // Closing a queue whose connection is still being set up ends in an unhandled 'error'.
    await queue.waitUntilReady();
  }

  beforeEach(() => {
    replies = [];
    warn.mockClear();
  });

  afterEach(async () => {
    for (const call of batcher.calls) call.outcome.resolve([]); // nothing left hanging for the close below
    await moduleRef.close();
    await queue.close();
    await admin.flushdb();
  });

  const addJob = (texts: string[], attempts = 1) =>
    queue.add(PREDICT_JOB, { texts, requests: [{ requestId: 'r1', texts: texts.length }], replyTo }, { attempts });
  /** BullMQ's Worker inside PredictionWorker (what pacing adjusts). */
  const bullWorker = () => (worker as unknown as { worker: Worker }).worker;

  it('answers a completed job on its replyTo channel with the predictions and where the time went', async () => {
    await startWorker();
    batcher.autoAnswer = predictionsFor;
    const job = await addJob(['a', 'b']);
    await until('the reply', () => replies.length === 1);
    expect(replies[0]).toEqual({
      jobId: job.id,
      result: {
        predictions: await predictionsFor(['a', 'b']),
        worker: WORKER_ID,
        modelVersion: served.version,
        timings: { queueMs: expect.any(Number), batchWaitMs: 1, modelMs: 2 },
      },
    });
  });

  it('a failure that will be retried sends no reply; only the final failure does', async () => {
    await startWorker();
    batcher.autoAnswer = async (_texts, call) => {
      throw new Error(`model exploded (attempt ${call})`);
    };
    const job = await addJob(['a'], 3);
    await until('the failure reply', () => replies.length > 0);
    // Pub/sub keeps the worker's messages in order: a reply sent after attempt 1 or 2 would come first.
    expect(replies[0]).toEqual({ jobId: job.id, failedReason: 'model exploded (attempt 3)' });
    expect(await queue.getJobState(job.id!)).toBe('failed');
    expect(replies).toHaveLength(1);
  });

  it('a job that succeeds on its retry gets only its result', async () => {
    await startWorker();
    batcher.autoAnswer = async (texts, call) => {
      if (call === 1) throw new Error('model exploded once');
      return predictionsFor(texts);
    };
    const job = await addJob(['a'], 2);
    await until('the reply', () => replies.length > 0);
    expect(replies).toEqual([{ jobId: job.id, result: expect.objectContaining({ predictions: await predictionsFor(['a']) }) }]);
  });

  it('malformed job data fails at once as unrecoverable, without reaching the model', async () => {
    await startWorker();
    batcher.autoAnswer = predictionsFor;
    const job = await queue.add(PREDICT_JOB, { texts: [], requests: [], replyTo }, { attempts: 3 });
    await until('the failure reply', () => replies.length > 0);
    expect(replies).toEqual([{ jobId: job.id, failedReason: 'job data must have a non-empty texts array of strings' }]);
    const failed = await Job.fromId(queue, job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(batcher.calls).toHaveLength(0);
  });

  it('idle, one job slot: a second job waits in Redis until the first completes, then load opens every slot', async () => {
    await startWorker();
    expect(bullWorker().concurrency).toBe(1);
    const first = await addJob(['a']);
    await until('the first job to be held', () => batcher.calls.length === 1);
    const second = await addJob(['b']);
    // Not taken while the first is held (one slot): BullMQ hands it over with the first's completion.
    await until('the second job to be counted waiting', async () => (await queue.getJobState(second.id!)) === 'waiting');
    expect(batcher.calls).toHaveLength(1);
    batcher.calls[0].outcome.resolve(await predictionsFor(['a']));
    await until('the second job to be held', () => batcher.calls.length === 2);
    expect(bullWorker().concurrency).toBe(8);
    // Busy: jobs added now are taken while the second one is still held.
    await queue.addBulk(['c', 'd'].map((text) => ({ name: PREDICT_JOB, data: { texts: [text], requests: [{ requestId: text, texts: 1 }], replyTo } })));
    await until('the third and fourth jobs to be held with the second', () => batcher.calls.length === 4);
    for (const call of batcher.calls.slice(1)) call.outcome.resolve(await predictionsFor(call.texts));
    await until('all four replies', () => replies.length === 4);
    await until('the worker to be idle again with one slot', () => bullWorker().concurrency === 1);
    expect(replies.map((r) => r.jobId)).toContain(first.id);
  });

  it('pacing: a backlog of BATCH_MAX_SIZE texts lowers concurrency to the jobs held, and it comes back once the batch runs', async () => {
    await startWorker();
    // Busy first: a job held, then two more handed over with its completion (see the test above).
    await addJob(['warm']);
    await until('the first job to be held', () => batcher.calls.length === 1);
    await queue.addBulk([0, 1].map((i) => ({ name: PREDICT_JOB, data: { texts: [`a${i}`, `b${i}`], requests: [{ requestId: `r${i}`, texts: 2 }], replyTo } })));
    batcher.calls[0].outcome.resolve(await predictionsFor(['warm']));
    await until('both jobs to be held', () => batcher.calls.length === 3);
    // 2 + 2 texts waiting = BATCH_MAX_SIZE (4): take no job beyond the two held.
    expect(bullWorker().concurrency).toBe(2);
    batcher.calls[1].outcome.resolve(await predictionsFor(batcher.calls[1].texts));
    await until('the backlog to fall below a batch', () => bullWorker().concurrency === 8);
    batcher.calls[2].outcome.resolve(await predictionsFor(batcher.calls[2].texts));
    await until('three replies', () => replies.length === 3);
  });

  it('drains a job in flight on shutdown when it finishes within SHUTDOWN_GRACE_MS', async () => {
    await startWorker({ SHUTDOWN_GRACE_MS: '10000' });
    const job = await addJob(['a']);
    await until('the job to be held', () => batcher.calls.length === 1);
    const closing = worker.beforeApplicationShutdown('SIGTERM');
    batcher.calls[0].outcome.resolve(await predictionsFor(['a']));
    await closing;
    expect(await queue.getJobState(job.id!)).toBe('completed');
    expect(replies).toEqual([{ jobId: job.id, result: expect.anything() }]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('closes without waiting when SHUTDOWN_GRACE_MS runs out, and says so', async () => {
    const graceMs = 300;
    await startWorker({ SHUTDOWN_GRACE_MS: String(graceMs) });
    await addJob(['a']);
    await until('the job to be held', () => batcher.calls.length === 1); // and never answered
    const started = Date.now();
    await worker.beforeApplicationShutdown('SIGTERM');
    const tookMs = Date.now() - started;
    expect(tookMs).toBeGreaterThanOrEqual(graceMs);
    // Forced means forced: not the grace period plus the 5 s bound on closing connections.
    expect(tookMs).toBeLessThan(graceMs + 1000);
    expect(warn).not.toHaveBeenCalledWith(expect.objectContaining({ msg: 'Redis connections did not close; exiting without them' }));
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ msg: expect.stringContaining('grace period over, closing without waiting'), graceMs }));
  });

  it('is not consuming once shutdown has started', async () => {
    await startWorker();
    expect(worker.consuming).toBe(true);
    const closing = worker.beforeApplicationShutdown('SIGTERM');
    expect(worker.consuming).toBe(false);
    await closing;
    expect(worker.consuming).toBe(false);
  });

  it('publishes what it serves at start, and again MODEL_INFO_REFRESH_MS after the key is deleted', async () => {
    await startWorker({ MODEL_INFO_REFRESH_MS: '1000' });
    const key = modelInfoKey(prefix, served.version);
    const published = JSON.parse((await admin.get(key))!) as ModelInfo;
    expect(published).toEqual({
      version: served.version,
      labels: served.info.labels,
      args: served.info.args,
      performance: served.info.performance,
      loadedAt: served.loadedAt,
    });
    await admin.del(key);
    await until('the model info to be republished', async () => (await admin.get(key)) !== null, 5000);
    expect(JSON.parse((await admin.get(key))!)).toEqual(published);
  });

  it('stops consuming while Redis is down, and on reconnect consumes again and republishes its model info at once', async () => {
    // A refresh far beyond the test: only the reconnect can republish.
    await startWorker({ MODEL_INFO_REFRESH_MS: '600000' });
    const key = modelInfoKey(prefix, served.version);
    expect(await admin.get(key)).not.toBeNull();
    await redis.stop();
    await until('consuming to turn false', () => !worker.consuming);
    await redis.restart(); // empty: no persistence
    await until('the model info to be republished', async () => (await admin.get(key)) !== null, 10_000);
    await until('consuming again', () => worker.consuming, 10_000);
    batcher.autoAnswer = predictionsFor;
    const job = await addJob(['after restart']);
    await until('the reply', () => replies.length === 1, 10_000);
    expect(replies[0]).toMatchObject({ jobId: job.id });
  });
});
