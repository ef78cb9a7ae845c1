import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import type { Prediction } from '@tagserve/model';
import { ModelInfo, modelInfoKey, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult, PredictionReply } from '@tagserve/queue';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { InferenceBatcher } from '../model/inference-batcher';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ServedModel } from '../model/served-model';
import { predictionWorkerOptions, WORKER_ID } from './worker-options';

@Processor(PREDICTION_QUEUE, predictionWorkerOptions())
export class PredictionProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PredictionProcessor.name);
  private lastError?: string;
  /** Jobs this worker holds right now (in process()). */
  private held = 0;
  private readonly concurrency: number;
  private readonly batchSize: number;

  constructor(
    private readonly model: ServedModel,
    private readonly batcher: InferenceBatcher<Prediction>,
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    private readonly config: ConfigService<TagserveConfig, true>,
    private readonly metrics: WorkerMetricsService,
  ) {
    super();
    this.concurrency = config.get('WORKER_CONCURRENCY');
    this.batchSize = config.get('BATCH_MAX_SIZE');
  }

  /** Tell the gateway what is served, for /performance and /args. */
  async onApplicationBootstrap(): Promise<void> {
    const served = this.model.info;
    const info: ModelInfo = {
      version: this.model.version,
      labels: served.labels,
      args: served.args,
      performance: served.performance,
      loadedAt: new Date().toISOString(),
    };
    const client = await this.queue.client;
    await client.set(modelInfoKey(this.config.get('QUEUE_PREFIX')), JSON.stringify(info));
    this.batcher.onBacklog((texts) => this.pace(texts));
    // Ready means its Redis connections are up: closing BullMQ connections that are still being
    // set up (a SIGTERM right at start) ends in an unhandled 'error' and exit 1.
    await this.worker.waitUntilReady();
    this.logger.log({ msg: 'worker ready', worker: WORKER_ID, version: this.model.version });
  }

  /**
   * Takes new jobs only while the model has room for them in its next batch. Jobs taken beyond
   * that would wait inside this worker, idle, while another worker's model may be free; left in
   * Redis, they go to whichever worker asks first. (The model runs in its own thread, so without
   * this a busy worker would keep taking jobs as eagerly as an idle one.)
   */
  private pace(backlogTexts: number): void {
    this.worker.concurrency = backlogTexts >= this.batchSize ? Math.max(1, Math.min(this.held, this.concurrency)) : this.concurrency;
  }

  /**
   * SIGTERM: stop taking jobs and let the ones in flight finish, for at most SHUTDOWN_GRACE_MS.
   * Past that, close anyway: unfinished jobs lose their lock and another worker retries them.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const graceMs = this.config.get('SHUTDOWN_GRACE_MS');
    this.logger.log({ msg: 'draining before exit', signal, graceMs });
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.worker.close().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.logger.warn({ msg: 'grace period over, closing without waiting; unfinished jobs go to another worker', graceMs });
      await this.worker.close(true);
    }
    this.logger.log({ msg: 'worker closed', drained });
  }

  async process(job: Job<PredictionJobData, PredictionJobResult>): Promise<PredictionJobResult> {
    const { texts, requests = [] } = job.data ?? ({} as PredictionJobData);
    if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      // Retrying cannot fix malformed data: fail at once with the reason.
      throw new UnrecoverableError('job data must have a non-empty texts array of strings');
    }
    const started = performance.now();
    let predictions: Prediction[];
    this.held++;
    try {
      predictions = await this.batcher.predict(texts);
    } finally {
      this.held--;
    }
    const inferenceMs = performance.now() - started;
    this.metrics.jobs.inc({ outcome: 'completed' });
    this.metrics.requests.inc({ outcome: 'completed' }, requests.length);
    // One line per request the job carries, so each request id can be followed into this log.
    for (const { requestId, texts: count } of requests) {
      this.logger.debug?.({ msg: 'job done', jobId: job.id, requestId, texts: count, jobTexts: texts.length, ms: Math.round(inferenceMs * 10) / 10 });
    }
    const result: PredictionJobResult = { predictions, worker: WORKER_ID, modelVersion: this.model.version, inferenceMs };
    // Answer the waiting gateway now; BullMQ records the completion in Redis right after.
    this.reply(job, { jobId: String(job.id), result });
    return result;
  }

  /**
   * Publishes a job's outcome to the gateway waiting for it. Not awaited: a lost message only
   * delays the answer until the gateway reads the job state, which BullMQ still records.
   */
  private reply(job: Job<PredictionJobData>, reply: PredictionReply): void {
    const channel = job.data?.replyTo;
    if (typeof channel !== 'string' || channel === '') return;
    this.queue.client
      .then((client) => (client as unknown as Redis).publish(channel, JSON.stringify(reply)))
      .catch((err: Error) => this.onError(err));
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<PredictionJobData> | undefined, err: Error): void {
    this.metrics.jobs.inc({ outcome: 'failed' });
    const requestIds = job?.data?.requests?.map((r) => r.requestId);
    // finishedOn is set only when BullMQ gives up (attempts used or unrecoverable); a retried job is not final.
    const final = job?.finishedOn !== undefined;
    this.logger.error({ msg: 'job failed', jobId: job?.id, requestIds, attempt: job?.attemptsMade, final, err: err.message });
    if (job && final) this.reply(job, { jobId: String(job.id), failedReason: err.message });
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    // A reconnect loop repeats the same error every second or so: say it once until it changes.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.error({ msg: 'worker error', err: err.message });
  }

  @OnWorkerEvent('completed')
  onCompleted(): void {
    this.lastError = undefined;
  }
}
