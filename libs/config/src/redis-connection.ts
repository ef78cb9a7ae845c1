import type { RedisOptions } from 'ioredis';
import type { TagserveConfig } from './config.schema';

type RedisSettings = Pick<TagserveConfig, 'REDIS_HOST' | 'REDIS_PORT' | 'REDIS_PASSWORD' | 'REDIS_DB'>;

function base(config: RedisSettings): RedisOptions {
  return {
    host: config.REDIS_HOST,
    port: config.REDIS_PORT,
    password: config.REDIS_PASSWORD || undefined,
    db: config.REDIS_DB,
    // Reconnect for ever, quickly: a restarted Redis is back in use within 2 s.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}

/**
 * The gateway's connection (a BullMQ producer). As BullMQ's production guide advises for
 * producers, it fails fast instead of queueing commands while Redis is away: an HTTP request
 * gets a 503 within REDIS_WAIT_MS rather than hanging until Redis returns.
 */
export function producerConnection(config: RedisSettings & Pick<TagserveConfig, 'REDIS_WAIT_MS'>): RedisOptions {
  return {
    ...base(config),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: config.REDIS_WAIT_MS,
    commandTimeout: config.REDIS_WAIT_MS,
  };
}

/**
 * A worker's connection (and the gateway's reply subscriber): BullMQ requires
 * maxRetriesPerRequest null for its blocking connection, and a consumer should wait out a
 * Redis outage, retrying for ever, rather than fail the jobs it holds.
 */
export function consumerConnection(config: RedisSettings): RedisOptions {
  return { ...base(config), maxRetriesPerRequest: null };
}
