import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { consumerConnection, pickSettings, REDIS_SETTINGS, TagserveConfigService } from '@tagserve/config';
import { BULK_JOB, BULK_QUEUE, BulkJobData, BulkJobResult, CHUNK_JOB, CHUNK_QUEUE, ChunkJobData, ChunkResult } from '@tagserve/queue';
import { Job, Processor, Worker } from 'bullmq';
import { workerOptions } from '../prediction/worker-options';
import { BulkProcessor } from './bulk.processor';

/** After the grace period and a forced close, how long shutdown may still wait on Redis (as PredictionWorker). */
const CLOSE_BOUND_MS = 5000;

/**
 * This process's BullMQ workers for bulk jobs, started by main.ts after the prediction worker:
 * one takes chunks (CHUNK_QUEUE), at most JOBS_CHUNKS_PER_WORKER at a time, so interactive
 * /predict texts never queue behind many of them in the micro-batcher; one sums up finished
 * parents (BULK_QUEUE), cheap work done once per bulk job, one at a time.
 */
@Injectable()
export class BulkWorker implements BeforeApplicationShutdown {
  private readonly logger = new Logger(BulkWorker.name);
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(ConfigService) private readonly config: TagserveConfigService,
    private readonly bulk: BulkProcessor,
  ) {}

  async start(): Promise<void> {
    const chunks = this.build<ChunkJobData, ChunkResult>(CHUNK_QUEUE, CHUNK_JOB, (job) => this.bulk.chunk(job), this.config.get('JOBS_CHUNKS_PER_WORKER'));
    const parents = this.build<BulkJobData, BulkJobResult>(BULK_QUEUE, BULK_JOB, (job) => this.bulk.finish(job), 1);
    for (const worker of [chunks, parents])
      worker.run().catch((err: Error) => this.logger.error({ msg: 'bulk worker stopped', queue: worker.name, err: err.message }));
    await Promise.all([chunks.waitUntilReady(), parents.waitUntilReady()]);
  }

  private build<D, R>(queue: string, name: string, process: (job: Job<D, R>) => Promise<R>, concurrency: number): Worker<D, R> {
    const handler: Processor<D, R> = async (job) => {
      if (job.name !== name) throw new Error(`unknown job name ${job.name} in ${queue}`);
      return process(job);
    };
    const worker = new Worker<D, R>(queue, handler, workerOptions(this.config, consumerConnection(pickSettings(this.config, ...REDIS_SETTINGS)), concurrency));
    let lastError: string | undefined;
    worker.on('failed', (job, err) => this.logger.error({ msg: 'bulk job failed', queue, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }));
    worker.on('error', (err) => {
      if (err.message !== lastError) this.logger.error({ msg: 'bulk worker error', queue, err: err.message });
      lastError = err.message;
    });
    this.workers.push(worker as unknown as Worker);
    return worker;
  }

  /** As PredictionWorker's: jobs in flight may finish within SHUTDOWN_GRACE_MS, then another worker retries them. */
  async beforeApplicationShutdown(): Promise<void> {
    const graceMs = this.config.get('SHUTDOWN_GRACE_MS');
    await Promise.all(
      this.workers.map(async (worker) => {
        if (!(await within(worker.close(), graceMs))) await within(worker.close(true), CLOSE_BOUND_MS);
      }),
    );
  }
}

async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  return settled;
}
