/**
 * What workers publish about the models they serve, so the gateway can answer /performance and
 * /args without loading a model itself. Kept per version, never last-writer-wins: during a rollout
 * two versions are served at once, and each is described by its own workers.
 *
 *   <prefix>:model:version:<version>   ModelInfo JSON of that version (TTL: 3 x MODEL_INFO_REFRESH_MS)
 *   <prefix>:model:workers             sorted set, one member `<version> <worker id>` per serving worker,
 *                                      scored with the time (Redis clock, ms) its entry stops counting
 */
export interface ModelInfo {
  version: string;
  labels: string[];
  args: Record<string, unknown>;
  performance: Record<string, unknown>;
  loadedAt: string;
}

export function modelInfoKey(prefix: string, version: string): string {
  return `${prefix}:model:version:${version}`;
}

export function modelWorkersKey(prefix: string): string {
  return `${prefix}:model:workers`;
}

/** The sorted-set member of one worker: versions and worker ids (host:pid) hold no spaces. */
export function workerEntry(version: string, workerId: string): string {
  return `${version} ${workerId}`;
}

/**
 * A worker's presence beat, atomic: drops entries that stopped counting, (re)adds its own until
 * now + ARGV[2] ms, and refreshes the TTL of its version's info. Time is Redis's (TIME), so the
 * clocks of the worker and gateway hosts never have to agree. Returns 0 when the info key is gone
 * (Redis restarted empty, FLUSHALL, expiry): the worker then republishes it at once.
 *   KEYS: workers set, info key   ARGV: member, entry TTL ms, info TTL ms
 */
export const ANNOUNCE_WORKER_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('PEXPIRE', KEYS[2], ARGV[3])`;

/** The members of the workers set that still count, by Redis's clock.  KEYS: workers set */
export const SERVING_WORKERS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')`;

/** How many workers serve each version, from the set's members, most served first (ties: by version). */
export function countWorkersByVersion(members: string[]): Array<{ version: string; workers: number }> {
  const counts = new Map<string, number>();
  for (const member of members) {
    const space = member.indexOf(' ');
    if (space <= 0) continue; // not written by workerEntry
    const version = member.slice(0, space);
    counts.set(version, (counts.get(version) ?? 0) + 1);
  }
  return [...counts].map(([version, workers]) => ({ version, workers })).sort((a, b) => b.workers - a.workers || a.version.localeCompare(b.version));
}

/** Parses a published ModelInfo; anything else (a corrupt or foreign value) is undefined. */
export function parseModelInfo(raw: string): ModelInfo | undefined {
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof info !== 'object' || info === null) return undefined;
  const { version, labels, args, performance } = info as Partial<ModelInfo>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (typeof version !== 'string' || !Array.isArray(labels) || !isObject(args) || !isObject(performance)) return undefined;
  return info as ModelInfo;
}

/**
 * The value at a key of the original API's filters (`overall`, `class`, …) or a dotted path into
 * it (`class.mlops.f1`); undefined when there is no such key.
 */
export function pickKey(source: Record<string, unknown>, key: string): unknown {
  let value: unknown = source;
  for (const part of key.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
