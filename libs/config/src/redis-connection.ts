import type { RedisOptions } from 'ioredis';
import type { TagserveConfig } from './config.schema';
import type { TagserveConfigService } from './tagserve-config.module';

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

/** The same options, read from Nest's ConfigService. */
export function redisConnectionFrom(config: TagserveConfigService): RedisOptions {
  return redisConnection({
    REDIS_HOST: config.get('REDIS_HOST'),
    REDIS_PORT: config.get('REDIS_PORT'),
    REDIS_PASSWORD: config.get('REDIS_PASSWORD'),
    REDIS_DB: config.get('REDIS_DB'),
  });
}
