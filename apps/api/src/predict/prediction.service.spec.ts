import { getQueueToken } from '@nestjs/bullmq';
import { HttpException, HttpStatus, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { TagserveConfig, validateConfig } from '@tagserve/config';
import { PREDICT_JOB, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { deferred, Deferred, until } from '../../../../test/support/until';
import { MetricsService } from '../metrics/metrics.service';
import { ReplicaAcks } from '../queue/replica-acks';
import { QueueConnection } from '../queue/queue-connection.service';
import { JobFailedError, JobLostError, JobTimeoutError, PredictionReplies } from './prediction-replies';
import { PredictionService } from './prediction.service';

type AddedJob = { name: string; data: PredictionJobData; opts: { jobId: string } };

/** The BullMQ queue as PredictionService uses it: records adds, answers the waiting count. */
class FakeQueue {
  waiting = 0;
  adds: AddedJob[][] = [];
  /** Which method each round trip used, in order. */
  calls: ('add' | 'addBulk')[] = [];
  addError?: Error;

  async getWaitingCount(): Promise<number> {
    return this.waiting;
  }

  async add(name: string, data: PredictionJobData, opts: { jobId: string }): Promise<unknown> {
    return this.record('add', [{ name, data, opts }]);
  }

  async addBulk(jobs: AddedJob[]): Promise<unknown> {
    return this.record('addBulk', jobs);
  }

  private record(call: 'add' | 'addBulk', jobs: AddedJob[]): unknown {
    if (this.addError) throw this.addError;
    this.calls.push(call);
    this.adds.push(jobs);
    return jobs;
  }
}

/** PredictionReplies with every outcome in the test's hands. */
class FakeReplies {
  readonly channel = 'test:predictions:replies:g';
  private sequence = 0;
  readonly outcomes = new Map<string, Deferred<PredictionJobResult>>();
  readonly queuedIds: string[] = [];
  readonly cancelled: string[] = [];

  nextJobId(): string {
    return `g-${++this.sequence}`;
  }
  wait(jobId: string): Promise<PredictionJobResult> {
    const outcome = deferred<PredictionJobResult>();
    this.outcomes.set(jobId, outcome);
    return outcome.promise;
  }
  queued(jobId: string): void {
    this.queuedIds.push(jobId);
  }
  cancel(jobId: string, err: Error): void {
    this.cancelled.push(jobId);
    this.outcomes.get(jobId)?.reject(err);
  }
}

/** Like QueueConnection.run: a failure of the Redis work becomes a 503 with Retry-After. */
const connection = {
  ready: true,
  run: async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw new ServiceUnavailableException({ message: `Queue backend (Redis) is unavailable (${(err as Error).message})`, headers: { 'Retry-After': '2' } });
    }
  },
};

function resultFor(texts: string[], worker = 'w1'): PredictionJobResult {
  return {
    predictions: texts.map((text) => ({ input_text: text, predicted_tag: `tag-of-${text}`, predicted_probabilities: { [`tag-of-${text}`]: 1 } })),
    worker,
    modelVersion: 'v1',
    timings: { queueMs: 3, batchWaitMs: 1, modelMs: 2 },
  };
}

describe('PredictionService', () => {
  let service: PredictionService;
  let queue: FakeQueue;
  let replies: FakeReplies;
  let metrics: MetricsService;

  async function create(env: Partial<Record<keyof TagserveConfig, string>> = {}): Promise<void> {
    const config = validateConfig({ MAX_TEXTS: '8', PREDICT_JOB_MAX_TEXTS: '4', QUEUE_MAX_WAITING: '10', PREDICT_TIMEOUT_MS: '30000', ...env });
    queue = new FakeQueue();
    replies = new FakeReplies();
    const moduleRef = await Test.createTestingModule({
      providers: [
        PredictionService,
        MetricsService,
        { provide: getQueueToken(PREDICTION_QUEUE), useValue: queue },
        { provide: PredictionReplies, useValue: replies },
        { provide: QueueConnection, useValue: connection },
        // No replicas asked for (QUEUE_ADD_REPLICA_ACKS=0, the default): adds count as accepted at once.
        { provide: ReplicaAcks, useValue: { wanted: 0, confirm: async () => true } },
        { provide: ConfigService, useValue: { get: (key: keyof TagserveConfig) => config[key] } },
      ],
    }).compile();
    service = moduleRef.get(PredictionService);
    metrics = moduleRef.get(MetricsService);
  }

  /** Starts requests in one event-loop turn; each settles to its result or its error. */
  function predictAll(...requests: string[][]): Promise<PromiseSettledResult<PredictionJobResult>[]> {
    return Promise.allSettled(requests.map((texts, i) => service.predict(texts, `req-${i}`)));
  }

  beforeAll(() => {
    // The failure paths log by design; keep the test output to the assertions.
    for (const level of ['warn', 'error', 'debug'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());
  beforeEach(() => create());

  it('requests of one event-loop turn share one add, and each gets its own slice of the predictions, in order', async () => {
    const before = Date.now();
    const settled = predictAll(['a'], ['b', 'c'], ['d']);
    await until('the job to be added', () => queue.adds.length === 1);
    expect(queue.calls).toEqual(['add']);
    const [job] = queue.adds[0];
    expect(job.name).toBe(PREDICT_JOB);
    expect(job.data).toEqual({
      texts: ['a', 'b', 'c', 'd'],
      requests: [
        { requestId: 'req-0', texts: 1 },
        { requestId: 'req-1', texts: 2 },
        { requestId: 'req-2', texts: 1 },
      ],
      replyTo: replies.channel,
      deadline: expect.any(Number),
    });
    // The caller's deadline (PREDICT_TIMEOUT_MS 30000 after the add): then the caller has its 504 and a worker drops the job.
    expect(job.data.deadline).toBeGreaterThanOrEqual(before + 30_000);
    expect(job.data.deadline).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(replies.queuedIds).toEqual([job.opts.jobId]);

    replies.outcomes.get(job.opts.jobId)!.resolve(resultFor(job.data.texts));
    const answers = (await settled).map((s) => (s.status === 'fulfilled' ? s.value.predictions.map((p) => p.input_text) : s.reason));
    expect(answers).toEqual([['a'], ['b', 'c'], ['d']]);
    expect((await settled)[1]).toMatchObject({
      status: 'fulfilled',
      value: { worker: 'w1', modelVersion: 'v1', predictions: [{ predicted_tag: 'tag-of-b' }, { predicted_tag: 'tag-of-c' }] },
    });
    expect((await metrics.predictedTexts.get()).values[0].value).toBe(4);
  });

  it('packs whole requests into jobs of at most PREDICT_JOB_MAX_TEXTS texts, added together with addBulk', async () => {
    const requests = [['a', 'b', 'c'], ['d'], ['e'], ['f', 'g'], ['h', 'i', 'j', 'k', 'l']];
    const settled = predictAll(...requests);
    await until('the jobs to be added', () => queue.adds.length === 1);
    expect(queue.calls).toEqual(['addBulk']);
    const jobs = queue.adds[0];
    // PREDICT_JOB_MAX_TEXTS = 4 (MAX_TEXTS = 8): [3 + 1] is full, [1 + 2] cannot take 5 more, and a
    // request larger than PREDICT_JOB_MAX_TEXTS goes alone.
    expect(jobs.map((j) => j.data.texts)).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f', 'g'],
      ['h', 'i', 'j', 'k', 'l'],
    ]);
    expect(jobs.map((j) => j.data.requests.map((r) => r.requestId))).toEqual([['req-0', 'req-1'], ['req-2', 'req-3'], ['req-4']]);
    expect(new Set(jobs.map((j) => j.opts.jobId)).size).toBe(3);

    // Answered out of order: each request still gets its own job's slice.
    for (const job of [...jobs].reverse()) replies.outcomes.get(job.opts.jobId)!.resolve(resultFor(job.data.texts));
    const answers = (await settled).map((s) => (s.status === 'fulfilled' ? s.value.predictions.map((p) => p.input_text) : s.reason));
    expect(answers).toEqual(requests);
  });

  it('requests of a later turn go into a job of their own', async () => {
    const first = service.predict(['a'], 'req-a');
    await until('the first job to be added', () => queue.adds.length === 1);
    const second = service.predict(['b'], 'req-b');
    await until('the second job to be added', () => queue.adds.length === 2);
    expect(queue.adds.map((jobs) => jobs.map((j) => j.data.texts))).toEqual([[['a']], [['b']]]);
    for (const [job] of queue.adds) replies.outcomes.get(job.opts.jobId)!.resolve(resultFor(job.data.texts));
    expect((await first).predictions[0].input_text).toBe('a');
    expect((await second).predictions[0].input_text).toBe('b');
  });

  it('answers 429 with Retry-After, and adds nothing, once QUEUE_MAX_WAITING jobs are waiting', async () => {
    queue.waiting = 10;
    const err = await service.predict(['a'], 'req-full').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpException);
    expect((err as HttpException).getStatus()).toBe(HttpStatus.TOO_MANY_REQUESTS);
    expect((err as HttpException).getResponse()).toMatchObject({ message: expect.stringContaining('10 waiting, limit 10'), headers: { 'Retry-After': '1' } });
    expect(queue.adds).toEqual([]);
  });

  it('accepts requests while fewer than QUEUE_MAX_WAITING jobs are waiting', async () => {
    queue.waiting = 9;
    const answer = service.predict(['a'], 'req-ok');
    await until('the job to be added', () => queue.adds.length === 1);
    replies.outcomes.get(queue.adds[0][0].opts.jobId)!.resolve(resultFor(['a']));
    await expect(answer).resolves.toMatchObject({ predictions: [{ input_text: 'a' }] });
  });

  it('answers 503 to every request of a turn when adding fails, and stops waiting for those jobs', async () => {
    queue.addError = new Error('Connection is closed.');
    const settled = await predictAll(['a'], ['b', 'c', 'd', 'e']);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const err = (s as PromiseRejectedResult).reason as HttpException;
      expect(err).toBeInstanceOf(ServiceUnavailableException);
      expect(err.getResponse()).toMatchObject({ message: expect.stringContaining('Connection is closed.'), headers: { 'Retry-After': '2' } });
    }
    expect(replies.cancelled).toEqual(['g-1', 'g-2']);
    expect(replies.queuedIds).toEqual([]);
  });

  /** One request whose job's outcome is `err`: the HTTP error it gets. */
  async function failureFor(err: Error): Promise<{ error: HttpException; jobId: string }> {
    const answer = service.predict(['a', 'b'], 'req-fail').catch((e: unknown) => e as HttpException);
    await until('the job to be added', () => queue.adds.length === 1);
    const jobId = queue.adds[0][0].opts.jobId;
    replies.outcomes.get(jobId)!.reject(err);
    return { error: (await answer) as HttpException, jobId };
  }

  it('answers 504 with the job id when the job did not finish in time', async () => {
    const { error, jobId } = await failureFor(new JobTimeoutError('too slow'));
    expect(error.getStatus()).toBe(HttpStatus.GATEWAY_TIMEOUT);
    expect(error.getResponse()).toMatchObject({ message: `Prediction job ${jobId} did not finish within 30000 ms`, details: { jobId } });
  });

  it('answers 502 with the reason when the job failed for good', async () => {
    const { error, jobId } = await failureFor(new JobFailedError('model exploded'));
    expect(error.getStatus()).toBe(HttpStatus.BAD_GATEWAY);
    expect(error.getResponse()).toMatchObject({ message: `Prediction job ${jobId} failed: model exploded`, details: { jobId } });
  });

  it('answers 503 with Retry-After when the job was lost', async () => {
    const { error, jobId } = await failureFor(new JobLostError(`Prediction job g-1 is no longer in Redis`));
    expect(error.getStatus()).toBe(HttpStatus.SERVICE_UNAVAILABLE);
    expect(error.getResponse()).toMatchObject({ message: 'Prediction job g-1 is no longer in Redis', details: { jobId }, headers: { 'Retry-After': '1' } });
  });

  it('gives every request of a failed job the same error', async () => {
    const settled = predictAll(['a'], ['b']);
    await until('the job to be added', () => queue.adds.length === 1);
    replies.outcomes.get(queue.adds[0][0].opts.jobId)!.reject(new JobFailedError('model exploded'));
    const statuses = (await settled).map((s) => (s.status === 'rejected' ? (s.reason as HttpException).getStatus() : s.status));
    expect(statuses).toEqual([HttpStatus.BAD_GATEWAY, HttpStatus.BAD_GATEWAY]);
  });
});
