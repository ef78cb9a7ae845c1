import type { RedisOptions } from 'ioredis';
import type { TagserveConfig } from './config.schema';

type RedisSettings = Pick<
  TagserveConfig,
  'REDIS_HOST' | 'REDIS_PORT' | 'REDIS_PASSWORD' | 'REDIS_DB' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_SENTINEL_PASSWORD'
>;

/** The settings every Redis connection needs, for pickSettings(config, ...REDIS_SETTINGS). */
export const REDIS_SETTINGS = [
  'REDIS_HOST',
  'REDIS_PORT',
  'REDIS_PASSWORD',
  'REDIS_DB',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_PASSWORD',
] as const satisfies readonly (keyof TagserveConfig)[];

/** REDIS_SENTINELS as ioredis wants it: `a:26379, [::1]:26380` → [{ host: 'a', port: 26379 }, { host: '::1', port: 26380 }]. */
export function parseSentinels(list: string): Array<{ host: string; port: number }> {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      return { host: entry.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(entry.slice(colon + 1)) };
    });
}

function base(config: RedisSettings): RedisOptions {
  // Reconnect for ever, quickly: a restarted Redis (or a newly promoted master) is back in use within 2 s.
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const common: RedisOptions = { password: config.REDIS_PASSWORD || undefined, db: config.REDIS_DB, retryStrategy };
  const sentinels = parseSentinels(config.REDIS_SENTINELS);
  if (sentinels.length === 0) return { ...common, host: config.REDIS_HOST, port: config.REDIS_PORT };
  return {
    ...common,
    sentinels,
    name: config.REDIS_SENTINEL_NAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD || undefined,
    // Only the master takes writes; ioredis checks ROLE after connecting, so a stale answer from a
    // sentinel (the old master restarted and not yet turned into a replica) is retried, not used.
    role: 'master',
    // Asking the sentinels again after a failed connect: the 200 ms..2 s retries above also pace this.
    // Not ioredis' failoverDetector: its disconnect on +switch-master, landing while the connection
    // was asking the sentinels, left the gateway's connection ended for good (status 'end', 503s
    // until another error reconnected it 6.5 s later). Without it nothing is lost: a killed master
    // closes its sockets, and a demoted one has its clients killed by the sentinels (CLIENT KILL).
    sentinelRetryStrategy: retryStrategy,
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
