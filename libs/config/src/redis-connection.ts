import type { RedisOptions } from 'ioredis';
import type { TagserveConfig } from './config.schema';

/** ioredis options shared by BullMQ queues, workers and health checks. */
export function redisConnection(config: Pick<TagserveConfig, 'REDIS_HOST' | 'REDIS_PORT' | 'REDIS_PASSWORD' | 'REDIS_DB'>): RedisOptions {
  return {
    host: config.REDIS_HOST,
    port: config.REDIS_PORT,
    password: config.REDIS_PASSWORD || undefined,
    db: config.REDIS_DB,
    // BullMQ requires null for blocking connections; it retries forever with backoff instead.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}
