import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { consumerConnection, pickSettings, TagserveConfigService } from '@tagserve/config';
import { BULK_JOB, BULK_QUEUE, BulkJobData, BulkJobResult } from '@tagserve/queue';
import { Worker } from 'bullmq';
import { WORKER_ID } from '../prediction/prediction.processor';
import { BulkProcessor } from './bulk.processor';

/**
 * Sums up finished bulk jobs (their parents, in BULK_QUEUE; the chunks are prediction-queue jobs,
 * see PredictionWorker). A parent is cheap work (read its chunks' results, score an evaluation),
 * once per bulk job: one at a time is plenty.
 */
@Injectable()
export class BulkWorker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(BulkWorker.name);
  private worker?: Worker<BulkJobData, BulkJobResult>;

  constructor(
    @Inject(ConfigService) private readonly config: TagserveConfigService,
    private readonly bulk: BulkProcessor,
  ) {}

  async start(): Promise<void> {
    const stalledIntervalMs = this.config.get('STALLED_INTERVAL_MS');
    const worker = new Worker<BulkJobData, BulkJobResult>(
      BULK_QUEUE,
      async (job) => {
        if (job.name !== BULK_JOB) throw new Error(`unknown job name ${job.name} in ${BULK_QUEUE}`);
        return this.bulk.finish(job);
      },
      {
        connection: consumerConnection(pickSettings(this.config, 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD', 'REDIS_DB')),
        prefix: this.config.get('QUEUE_PREFIX'),
        name: WORKER_ID,
        autorun: false,
        concurrency: 1,
        stalledInterval: stalledIntervalMs,
        lockDuration: stalledIntervalMs * 2,
        maxStalledCount: 2,
      },
    );
    this.worker = worker;
    worker.on('failed', (job, err) => this.logger.error({ msg: 'bulk job failed', jobId: job?.id, err: err.message }));
    worker.on('error', (err) => this.logger.error({ msg: 'bulk worker error', err: err.message }));
    worker.run().catch((err: Error) => this.logger.error({ msg: 'bulk worker stopped', err: err.message }));
    await worker.waitUntilReady();
  }

  /** Bounded like PredictionWorker's: a summary in flight may finish, then another worker retries it. */
  async beforeApplicationShutdown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const graceMs = this.config.get('SHUTDOWN_GRACE_MS');
    const closed = await Promise.race([worker.close().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref())]);
    if (!closed) await Promise.race([worker.close(true), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
}
