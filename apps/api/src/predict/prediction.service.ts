import { InjectQueue } from '@nestjs/bullmq';
import {
  BadGatewayException,
  GatewayTimeoutException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { groupRequests, PREDICT_JOB, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { MetricsService } from '../metrics/metrics.service';
import { QueueConnection } from '../queue/queue-connection.service';
import { ReplicaAcks } from '../queue/replica-acks';
import { JobLostError, JobTimeoutError, JobUnreplicatedError, PredictionReplies } from './prediction-replies';

/** How stale the gateway's view of the queue depth may be; adds in between are counted locally. */
const WAITING_REFRESH_MS = 100;

/** A job the gateway added: its requests and the outcome its waiter will get. */
interface QueuedJob {
  id: string;
  data: PredictionJobData;
  requests: PendingRequest[];
  outcome: Promise<PredictionJobResult>;
}

/** A request waiting for the next flush, and how to answer it. */
interface PendingRequest {
  texts: string[];
  requestId: string;
  resolve: (result: PredictionJobResult) => void;
  reject: (err: unknown) => void;
}

@Injectable()
export class PredictionService {
  private readonly logger = new Logger(PredictionService.name);
  private readonly timeoutMs: number;
  private readonly jobMaxTexts: number;
  private readonly maxWaiting: number;
  private waiting = { count: 0, readAt: 0 };
  private waitingRead?: Promise<number>;
  private pending: PendingRequest[] = [];
  private flushScheduled = false;

  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue<PredictionJobData, PredictionJobResult>,
    private readonly replies: PredictionReplies,
    private readonly metrics: MetricsService,
    private readonly connection: QueueConnection,
    private readonly replicaAcks: ReplicaAcks,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.timeoutMs = config.get('PREDICT_TIMEOUT_MS');
    this.jobMaxTexts = config.get('PREDICT_JOB_MAX_TEXTS');
    this.maxWaiting = config.get('QUEUE_MAX_WAITING');
  }

  /**
   * Queues the texts and waits for their predictions. Requests that arrive in the same event-loop
   * turn share jobs (whole requests, at most PREDICT_JOB_MAX_TEXTS texts a job unless one request
   * has more), added in one round trip: under load this divides the per-job Redis work of the
   * gateway and the workers, and a burst still spreads over the workers; alone, a request waits
   * for nothing.
   */
  async predict(texts: string[], requestId: string): Promise<PredictionJobResult> {
    await this.assertQueueAccepting();
    return new Promise<PredictionJobResult>((resolve, reject) => {
      this.pending.push({ texts, requestId, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const groups = groupRequests(this.pending.splice(0), this.jobMaxTexts);
    const jobs = groups.map((requests): QueuedJob => {
      const id = this.replies.nextJobId();
      const data: PredictionJobData = {
        texts: requests.flatMap((r) => r.texts),
        requests: requests.map((r) => ({ requestId: r.requestId, texts: r.texts.length })),
        replyTo: this.replies.channel,
        // The waiter below gives up at the same moment: past it, a worker drops the job uninferred.
        deadline: Date.now() + this.timeoutMs,
      };
      // Listening before the job exists: a fast worker's reply cannot arrive before its waiter.
      return { id, data, requests, outcome: this.replies.wait(id, this.timeoutMs) };
    });
    const generation = this.connection.generation;
    try {
      // Bounded: Redis dropping between the check and the add must give a 503, not a request that hangs.
      // addBulk is a MULTI transaction: worth it for several jobs, not for the usual one.
      await this.connection.run(async () =>
        jobs.length === 1
          ? this.queue.add(PREDICT_JOB, jobs[0].data, { jobId: jobs[0].id })
          : this.queue.addBulk(jobs.map(({ id, data }) => ({ name: PREDICT_JOB, data, opts: { jobId: id } }))),
      );
    } catch (err) {
      for (const job of jobs) {
        this.replies.cancel(job.id, err as Error);
        job.outcome.catch(() => undefined);
        for (const request of job.requests) request.reject(err);
      }
      return;
    }
    this.waiting.count += jobs.length;
    for (const job of jobs) {
      this.replies.queued(job.id);
      // Whatever goes wrong while answering, every request of the job gets an answer (settled promises ignore the rest).
      this.answer(job).catch((err) => job.requests.forEach((request) => request.reject(err)));
    }
    if (this.replicaAcks.wanted > 0) void this.confirmReplicated(jobs, generation);
  }

  /**
   * Jobs too few replicas confirmed get a 503 unless their answer came first: a failover now
   * could lose them, and the client's retry is safe (predictions are idempotent; the job, still
   * queued, may run for nothing). Accepted then means replicated, so a failover loses no accepted job.
   */
  private async confirmReplicated(jobs: QueuedJob[], generation: number): Promise<void> {
    const started = performance.now();
    const confirmed = await this.replicaAcks.confirm(generation);
    this.metrics.replicaAckWait.observe({ confirmed: String(confirmed) }, (performance.now() - started) / 1000);
    if (confirmed) return;
    const message = `the queue's replicas did not confirm the job within the time allowed (${this.replicaAcks.wanted} wanted), retry shortly`;
    for (const job of jobs) this.replies.cancel(job.id, new JobUnreplicatedError(`Prediction job ${job.id} not accepted: ${message}`));
  }

  /**
   * Waits for one job and hands each of its requests its own slice of the predictions. A job's
   * result comes whole from one worker (one attempt), so each request is answered by one model
   * version, whichever requests shared its job.
   */
  private async answer(job: QueuedJob): Promise<void> {
    const { id: jobId, requests } = job;
    for (const { requestId, texts } of requests) this.logger.debug?.({ msg: 'job queued', requestId, jobId, texts: texts.length });
    let result: PredictionJobResult;
    try {
      result = await job.outcome;
    } catch (err) {
      const failure = this.describeFailure(jobId, err, requests);
      for (const request of requests) request.reject(failure);
      return;
    }
    this.metrics.predictedTexts.inc(job.data.texts.length);
    this.metrics.observePredictions(result.modelVersion, result.predictions);
    this.metrics.jobTimes.observe(result.timings);
    let offset = 0;
    for (const request of requests) {
      const predictions = result.predictions.slice(offset, offset + request.texts.length);
      offset += request.texts.length;
      this.logger.debug?.({ msg: 'job answered', requestId: request.requestId, jobId, worker: result.worker });
      request.resolve({ ...result, predictions });
    }
  }

  private describeFailure(jobId: string, err: unknown, requests: PendingRequest[]): HttpException {
    const message = err instanceof Error ? err.message : String(err);
    const requestIds = requests.map((r) => r.requestId);
    if (err instanceof JobTimeoutError) {
      // The job stays queued and will still be processed; the caller learns its id.
      this.logger.warn({ msg: 'prediction timed out', requestIds, jobId, timeoutMs: this.timeoutMs });
      return new GatewayTimeoutException({ message: `Prediction job ${jobId} did not finish within ${this.timeoutMs} ms`, details: { jobId } });
    }
    if (err instanceof JobUnreplicatedError) {
      this.logger.warn({ msg: 'prediction not replicated', requestIds, jobId, err: message });
      return new ServiceUnavailableException({ message, headers: { 'Retry-After': '1' } });
    }
    if (err instanceof JobLostError) {
      this.logger.warn({ msg: 'prediction lost', requestIds, jobId, err: message });
      return new ServiceUnavailableException({ message, details: { jobId }, headers: { 'Retry-After': '1' } });
    }
    this.logger.error({ msg: 'prediction failed', requestIds, jobId, err: message });
    return new BadGatewayException({ message: `Prediction job ${jobId} failed: ${message}`, details: { jobId } });
  }

  /** Fail fast with 503/429 rather than letting requests pile up behind a dead Redis or a full queue. */
  private async assertQueueAccepting(): Promise<void> {
    const waiting = await this.waitingCount();
    if (waiting >= this.maxWaiting) {
      throw new HttpException(
        { message: `Too many queued predictions (${waiting} waiting, limit ${this.maxWaiting}), retry shortly`, headers: { 'Retry-After': '1' } },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /**
   * Queue depth for backpressure, read from Redis at most every WAITING_REFRESH_MS (one shared
   * read for all requests in flight) instead of one extra round trip per request.
   */
  private async waitingCount(): Promise<number> {
    if (Date.now() - this.waiting.readAt < WAITING_REFRESH_MS) return this.waiting.count;
    this.waitingRead ??= this.connection
      .run(() => this.queue.getWaitingCount())
      .then((count) => {
        this.waiting = { count, readAt: Date.now() };
        return count;
      })
      .finally(() => (this.waitingRead = undefined));
    return this.waitingRead;
  }
}
