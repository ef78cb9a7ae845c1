import type { TagserveConfigService } from '@tagserve/config';
import type { ConnectionOptions, WorkerOptions } from 'bullmq';
import { WORKER_ID } from './prediction.processor';

/**
 * Options every BullMQ worker of this process shares (the prediction worker and the bulk-job
 * workers): its name, started explicitly (autorun off), and the stalled-job recovery that hands a
 * job of a killed worker to another after STALLED_INTERVAL_MS.
 */
export function workerOptions(config: TagserveConfigService, connection: ConnectionOptions, concurrency: number): WorkerOptions {
  const stalledIntervalMs = config.get('STALLED_INTERVAL_MS');
  return {
    connection,
    prefix: config.get('QUEUE_PREFIX'),
    name: WORKER_ID,
    autorun: false,
    concurrency,
    stalledInterval: stalledIntervalMs,
    lockDuration: stalledIntervalMs * 2,
    maxStalledCount: 2,
  };
}
