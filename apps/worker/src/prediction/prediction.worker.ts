import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { consumerConnection, pickSettings, REDIS_SETTINGS, TagserveConfigService } from '@tagserve/config';
import { PREDICTION_QUEUE, PredictionJobData, PredictionJobResult, PredictionReply } from '@tagserve/queue';
import { Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { livenessProblem } from '../health/worker-liveness';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ModelService } from '../model/model.service';
import { ModelPresence } from './model-presence';
import { JobSlots } from './job-slots';
import { ExpiredJobError, PredictionProcessor, WORKER_ID } from './prediction.processor';
import { workerOptions } from './worker-options';

/** After the grace period and a forced close, how long shutdown may still wait on Redis (it may be down). */
const CLOSE_BOUND_MS = 5000;
/** How long a SIGTERM waits for Redis to drop this worker's entry before draining anyway (it expires by itself after 3 beats). */
const WITHDRAW_BOUND_MS = 1000;

/**
 * The BullMQ worker of this process, built with BullMQ's public API and started explicitly by
 * main.ts once the model is loaded and warmed up. Not an @nestjs/bullmq @Processor: its options
 * are fixed at decoration time, before the configuration is validated, and Nest's maintainers
 * point to BullMQ itself for workers configured at run time (nestjs/bull#395). The gateway, a
 * producer only, keeps @nestjs/bullmq.
 */
@Injectable()
export class PredictionWorker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PredictionWorker.name);
  private worker?: Worker<PredictionJobData, PredictionJobResult>;
  private client?: Redis;
  private presence?: ModelPresence;
  private slots?: JobSlots;
  /**
   * The liveness check's own connection: on the worker's connection its read would queue behind
   * the commands in flight, and a stuck command would hide why the worker is stuck.
   */
  private probe?: Redis;
  private lastError?: string;
  private closing = false;
  /** Jobs inside the processor and when each went in, for the liveness check. */
  private readonly jobStarts = new Map<string, number>();
  private lastProgressAt = Date.now();

  constructor(
    @Inject(ConfigService) private readonly config: TagserveConfigService,
    private readonly processor: PredictionProcessor,
    private readonly model: ModelService,
    private readonly metrics: WorkerMetricsService,
  ) {}

  /** Registers with Redis and starts taking jobs; resolves once its connections are up. */
  async start(): Promise<void> {
    const concurrency = this.config.get('WORKER_CONCURRENCY');
    const connection = consumerConnection(pickSettings(this.config, ...REDIS_SETTINGS));
    // Fails fast: a check that cannot reach Redis is a failed check, not one that waits.
    this.probe = new Redis({ ...connection, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: `tagserve-liveness-${WORKER_ID}` });
    this.probe.on('error', () => undefined); // the worker's own connection reports Redis errors
    // Concurrency feeds the micro-batcher: many jobs in flight, one inference at a time (see JobSlots).
    const worker = new Worker<PredictionJobData, PredictionJobResult>(
      PREDICTION_QUEUE,
      (job) => this.handle(job),
      workerOptions(this.config, connection, concurrency),
    );
    this.worker = worker;
    this.slots = new JobSlots(
      concurrency,
      this.config.get('BATCH_MAX_SIZE'),
      () => this.processor.held,
      (n) => (worker.concurrency = n),
    );
    worker.concurrency = this.slots.value;
    worker.on('failed', (job, err) => this.onFailed(job, err));
    worker.on('error', (err) => this.onError(err));
    worker.on('completed', () => (this.lastError = undefined));
    worker.on('active', () => this.slots?.fetched());
    worker.on('drained', () => this.slots?.drained(this.jobStarts.size));
    // Takes new jobs only while the model has room for them in its next batch. Jobs taken beyond
    // that would wait inside this worker, idle, while another worker's model may be free; left in
    // Redis, they go to whichever worker asks first. (The model runs in its own thread, so without
    // this a busy worker would keep taking jobs as eagerly as an idle one.)
    this.model.batcher.onBacklog((texts) => this.slots?.backlog(texts));

    this.client = (await worker.client) as unknown as Redis;
    // Redis may come back empty (no persistence): what is served is republished on every
    // reconnect, every MODEL_INFO_REFRESH_MS, and at the first beat that finds it gone, so
    // /performance and /args recover by themselves (see ModelPresence).
    this.presence = new ModelPresence(
      this.client,
      this.model.model,
      {
        prefix: this.config.get('QUEUE_PREFIX'),
        workerId: WORKER_ID,
        beatMs: this.config.get('WORKER_HEARTBEAT_MS'),
        refreshMs: this.config.get('MODEL_INFO_REFRESH_MS'),
      },
      () => this.consuming,
      (err) => this.onError(err),
    );
    await this.presence.start();

    this.lastProgressAt = Date.now();
    worker.run().catch((err: Error) => this.onError(err));
    // Ready means its Redis connections are up: closing BullMQ connections that are still being
    // set up (a SIGTERM right at start) ends in an unhandled 'error' and exit 1.
    await worker.waitUntilReady();
    // Counted by the gateway from now on (the beat repeats every WORKER_HEARTBEAT_MS).
    await this.presence.beat();
    this.logger.log({ msg: 'worker ready', worker: WORKER_ID, version: this.model.model.version });
  }

  /** Taking jobs right now: running, not closing, and connected to Redis (what the heartbeat reports). */
  get consuming(): boolean {
    return !!this.worker?.isRunning() && !this.closing && this.client?.status === 'ready';
  }

  /** Why this worker is not doing its job right now, or undefined (see livenessProblem; the heartbeat asks). */
  liveness(): Promise<string | undefined> {
    const worker = this.worker;
    return livenessProblem(
      {
        now: Date.now(),
        consuming: this.consuming,
        notConsumingBecause: !worker?.isRunning() ? 'BullMQ worker not running' : this.closing ? 'closing' : `Redis connection ${this.client?.status}`,
        jobStarts: this.jobStarts,
        lastProgressAt: this.lastProgressAt,
        hasRoom: !!worker && this.jobStarts.size < worker.concurrency,
        waiting: async () => (worker && this.probe ? this.probe.llen(worker.keys.wait) : 0),
      },
      { maxJobMs: this.config.get('WORKER_MAX_JOB_MS'), stallMs: this.config.get('WORKER_STALL_MS') },
    );
  }

  private async handle(job: Job<PredictionJobData, PredictionJobResult>): Promise<PredictionJobResult> {
    const key = String(job.id);
    // Before the first await: BullMQ calls this synchronously, and looks at its concurrency right after.
    this.slots?.jobStarting(this.jobStarts.size);
    this.jobStarts.set(key, (this.lastProgressAt = Date.now()));
    let result: PredictionJobResult;
    try {
      result = await this.processor.process(job);
    } finally {
      this.jobStarts.delete(key);
      this.lastProgressAt = Date.now();
      this.slots?.jobFinished(this.jobStarts.size);
    }
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
    if (typeof channel !== 'string' || channel === '' || !this.client) return;
    this.client.publish(channel, JSON.stringify(reply)).catch((err: Error) => this.onError(err));
  }

  private onFailed(job: Job<PredictionJobData> | undefined, err: Error): void {
    if (err instanceof ExpiredJobError) {
      // Expected under overload, not an error: counted in tagserve_worker_jobs_expired_total.
      this.metrics.jobs.inc({ outcome: 'expired' });
      this.logger.warn({ msg: 'job expired', jobId: job?.id, requestIds: job?.data?.requests?.map?.((r) => r?.requestId), err: err.message });
      if (job) this.reply(job, { jobId: String(job.id), failedReason: err.message });
      return;
    }
    this.metrics.jobs.inc({ outcome: 'failed' });
    const requestIds = job?.data?.requests?.map?.((r) => r?.requestId);
    // finishedOn is set only when BullMQ gives up (attempts used or unrecoverable); a retried job is not final.
    const final = job?.finishedOn !== undefined;
    this.logger.error({ msg: 'job failed', jobId: job?.id, requestIds, attempt: job?.attemptsMade, final, err: err.message });
    if (job && final) this.reply(job, { jobId: String(job.id), failedReason: err.message });
  }

  private onError(err: Error): void {
    // A reconnect loop repeats the same error every second or so: say it once until it changes.
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.error({ msg: 'worker error', err: err.message });
  }

  /**
   * SIGTERM: stop taking jobs and let the ones in flight finish (pause), for at most
   * SHUTDOWN_GRACE_MS. Past that, close by force: unfinished jobs lose their lock and another
   * worker retries them. (Not close() then close(true): BullMQ's second close only returns the
   * first, unforced one.) With Redis down even a forced close can wait for ever on its
   * connections: after CLOSE_BOUND_MS more, shutdown goes on without them, so the process exits.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.closing = true;
    this.probe?.disconnect();
    const worker = this.worker;
    if (!worker) return;
    // Out of the gateway's count before draining: during a rollout /performance stops listing a
    // version as soon as its last worker stops taking jobs.
    await this.presence?.withdraw(WITHDRAW_BOUND_MS);
    const graceMs = this.config.get('SHUTDOWN_GRACE_MS');
    this.logger.log({ msg: 'draining before exit', signal, graceMs });
    const drained = await within(worker.pause(), graceMs);
    if (!drained) this.logger.warn({ msg: 'grace period over, closing without waiting; unfinished jobs go to another worker', graceMs });
    if (!(await within(worker.close(!drained), CLOSE_BOUND_MS)))
      this.logger.warn({ msg: 'Redis connections did not close; exiting without them', boundMs: CLOSE_BOUND_MS });
    this.logger.log({ msg: 'worker closed', drained });
  }
}

/** True if `work` settles within `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = work.then(
    () => true,
    () => true,
  );
  const settled = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return settled;
}
