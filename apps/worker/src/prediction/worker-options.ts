import { validateConfig } from '@tagserve/config';
import type { WorkerOptions } from 'bullmq';
import { hostname } from 'node:os';

/** hostname:pid — the container id under compose — names the worker in Redis and in job results. */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/**
 * BullMQ worker options. @Processor takes them at decoration time, so they are read from the
 * environment through the same validated schema the ConfigModule uses.
 */
export function predictionWorkerOptions(env: NodeJS.ProcessEnv = process.env): Partial<WorkerOptions> {
  const config = validateConfig(env);
  return {
    name: WORKER_ID,
    // Concurrency feeds the micro-batcher: many jobs in flight, one inference at a time.
    concurrency: config.WORKER_CONCURRENCY,
    // A worker killed mid-job stops renewing its lock; another worker takes the job after this.
    stalledInterval: config.STALLED_INTERVAL_MS,
    lockDuration: config.STALLED_INTERVAL_MS * 2,
    maxStalledCount: 2,
  };
}
