import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, validateSync, ValidationError } from 'class-validator';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment strings to numbers; anything that is not a finite number stays as it is and fails validation. */
const toNumber = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string' || value.trim() === '') return value;
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  });

/** 'true'/'false' (any case) to booleans, as Joi's boolean() read them; anything else fails validation. */
const toBoolean = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const v = value.trim().toLowerCase();
    return v === 'true' ? true : v === 'false' ? false : value;
  });

const Port = () => (target: object, key: string) => {
  toNumber()(target, key);
  IsInt()(target, key);
  Min(0)(target, key);
  Max(65535)(target, key);
};

const Int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (target: object, key: string) => {
    toNumber()(target, key);
    IsInt()(target, key);
    Min(min)(target, key);
    Max(max)(target, key);
  };

/** `host:port` ([v6]:port allowed), comma-separated, spaces around the commas ignored; empty = no Sentinel. */
const SENTINEL_ADDRESS = String.raw`\s*(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}\s*`;
const SENTINEL_LIST = new RegExp(`^(|${SENTINEL_ADDRESS}(,${SENTINEL_ADDRESS})*)$`);

/**
 * Every setting of the gateway and the worker: one class is both the schema and the type (the
 * pattern of Nest's configuration guide), validated once at start-up, so that a typo in the
 * environment stops the process with a clear message instead of misbehaving later. A property's
 * initializer is its default.
 */
export class TagserveConfig {
  @IsIn(['development', 'production', 'test']) NODE_ENV: 'development' | 'production' | 'test' = 'development';
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';
  @IsIn(['json', 'text']) LOG_FORMAT: 'json' | 'text' = 'json';

  // Redis (shared by the gateway and the workers)
  @Matches(/^[A-Za-z0-9.:_-]+$/, { message: 'REDIS_HOST must be a host name or address' }) REDIS_HOST = '127.0.0.1';
  @Port() REDIS_PORT = 6379;
  @IsString() REDIS_PASSWORD = '';
  @Int(0, 15) REDIS_DB = 0;
  /**
   * Sentinel: a comma-separated host:port list (empty = connect to REDIS_HOST directly). Clients
   * ask the sentinels for the current master of REDIS_SENTINEL_NAME and follow it after a failover.
   */
  @Matches(SENTINEL_LIST, { message: 'REDIS_SENTINELS must be a comma-separated host:port list, or empty' })
  REDIS_SENTINELS = '';
  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'REDIS_SENTINEL_NAME must be a Sentinel master name' }) REDIS_SENTINEL_NAME = 'mymaster';
  @IsString() REDIS_SENTINEL_PASSWORD = '';
  /**
   * Letters, digits, _ and -, optionally inside a Redis Cluster hash tag (`{tagserve}`): every key
   * then hashes to one slot, as BullMQ's multi-key scripts need on a cluster.
   */
  @Matches(/^(\{[a-zA-Z0-9_-]+\}|[a-zA-Z0-9_-]+)$/, {
    message: 'QUEUE_PREFIX may hold letters, digits, _ and - only, optionally inside {} (a Redis Cluster hash tag)',
  })
  QUEUE_PREFIX = 'tagserve';

  // Gateway
  @IsString() HOST = '0.0.0.0';
  @Port() PORT = 8000;
  @Int(100) PREDICT_TIMEOUT_MS = 30000;
  @Int(1, 10000) MAX_TEXTS = 64;
  // Requests that reach the gateway in one event-loop turn share jobs of up to this many texts (a
  // larger request is a job of its own). A job goes whole to one worker: with jobs of up to 64
  // texts, 64 clients sending together to 2 workers left each model idle about half the time, one
  // worker running a whole burst while the other waited (176-224 texts/s, 298-313 with 16).
  @Int(1, 10000) PREDICT_JOB_MAX_TEXTS = 16;
  @Int(1) MAX_TEXT_LENGTH = 5000;
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 512kb, 1mb or 1000b' }) BODY_LIMIT = '512kb';
  @Int(1) QUEUE_MAX_WAITING = 2000;
  @Int(0) JOB_KEEP_COMPLETED = 1000;
  @Int(0) JOB_KEEP_FAILED = 5000;
  @Int(1) JOB_KEEP_SECONDS = 3600;
  @Int(1, 10) JOB_ATTEMPTS = 3;
  @Int(1) THROTTLE_TTL_MS = 60000;
  @Int(1) THROTTLE_LIMIT = 100000;
  // API keys (apps/api/src/auth): comma-separated and/or a file with one per line; both empty = open API.
  @IsString() API_KEYS = '';
  @IsString() API_KEYS_FILE = '';
  // With API keys set: /metrics stays open to scrapers without a key (true) or needs one (false).
  @toBoolean() @IsBoolean() METRICS_PUBLIC = true;
  // Node's own HTTP timeouts (its defaults: 60 s for headers, 300 s for a whole request): a client
  // that sends a few bytes and stops must not hold a connection for minutes.
  @Int(1000) HTTP_HEADERS_TIMEOUT_MS = 10000;
  @Int(1000) HTTP_REQUEST_TIMEOUT_MS = 30000;
  // The gateway's own limit on receiving a body; answered 408 in the envelope (before Node's bare 408).
  @Int(100) HTTP_BODY_TIMEOUT_MS = 10000;
  @Int(0) HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;
  // On SIGTERM, how long requests in flight may finish before their connections are cut (compose gives the api 15 s).
  @Int(0) HTTP_SHUTDOWN_DRAIN_MS = 10000;
  // Bulk jobs (POST /jobs, POST /evaluate)
  /** Texts one bulk job may hold (JSON items or CSV rows). */
  @Int(1, 1_000_000) JOBS_MAX_TEXTS = 100000;
  /** Texts per chunk job (2 micro-batches of 16): 3,125 jobs for 100,000 texts; fewer, longer chunks retry more on a worker's death. */
  @Int(1, 10000) JOBS_CHUNK_SIZE = 32;
  /** Chunks a worker holds at once: with half a batch of each in the micro-batcher, 2 fill one batch of 16. */
  @Int(1, 64) JOBS_CHUNKS_PER_WORKER = 2;
  /** Body limit of POST /jobs and /evaluate (JSON or CSV): 100,000 texts of the dataset's ~200 characters is about 25 MB. */
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'JOBS_BODY_LIMIT must look like 64mb, 512kb or 1000b' }) JOBS_BODY_LIMIT = '64mb';
  /** Seconds a finished bulk job and its results are kept; after that GET /jobs/{id} is 404. */
  @Int(1) JOB_RESULT_TTL = 86400;
  /** How long a request waits on Redis (connect, command) before the gateway answers 503. */
  @Int(100, 60000) REDIS_WAIT_MS = 2000;
  /**
   * Replicas that must hold a job before the gateway counts it as accepted (Redis WAIT after the
   * add; 0 = off). With Sentinel, 1 means a job acknowledged by the master survives its failover.
   */
  @Int(0, 16) QUEUE_ADD_REPLICA_ACKS = 0;
  /**
   * How long the gateway's WAIT for those replicas may take; short of them, the request gets a 503.
   * Keep it under REDIS_WAIT_MS, the connection's command timeout (a WAIT cut by it also means 503).
   */
  @Int(1, 10000) QUEUE_ADD_REPLICA_ACK_MS = 250;

  // Worker
  @IsString() MODEL_DVC_FILE = 'stores/model.dvc';
  @IsString() DVC_STORE_DIR = 'stores/blob';
  @IsString() MODEL_DIR = '.cache/model';
  @Int(1, 64) ONNX_INTRA_OP_THREADS = 1;
  @Int(1, 64) ONNX_INTER_OP_THREADS = 1;
  @Int(1, 1024) WORKER_CONCURRENCY = 64;
  @Int(1, 1024) BATCH_MAX_SIZE = 16;
  // 0 = continuous batching: no timer; texts that arrive while the model runs form the next batch.
  @toNumber() @IsNumber() @Min(0) @Max(1000) BATCH_MAX_WAIT_MS = 0;
  // Padded tokens (texts × longest) per inference, texts of similar length together (512: 15-20 %
  // less CPU per holdout text than FIFO batches of 16 at a 64-text backlog); 0 = FIFO batches.
  @Int(0, 1_000_000) BATCH_MAX_TOKENS = 0;
  // Most bulk (job chunk) texts per inference while /predict traffic is about: a /predict text
  // arriving meanwhile waits for it (4 holdout texts ~20 ms, 16 ~80 ms); alone, bulk batches are BATCH_MAX_SIZE.
  @Int(1, 1024) BATCH_BULK_MAX_SIZE = 4;
  // Recent predictions kept by exact text (LRU, answered without the model); 0 = no cache.
  @Int(0, 1_000_000) PREDICTION_CACHE_SIZE = 0;
  @Int(1000) STALLED_INTERVAL_MS = 5000;
  @Int(0) SHUTDOWN_GRACE_MS = 25000;
  @IsString() WORKER_HEARTBEAT_FILE = join(tmpdir(), 'tagserve-worker.alive');
  @Int(100) WORKER_HEARTBEAT_MS = 5000;
  /** A job in the processor longer than this means a stuck model: no heartbeat (twice the gateway's 30 s wait). */
  @Int(1000) WORKER_MAX_JOB_MS = 60000;
  /** Taking and finishing no job this long while jobs wait and the worker has room means its fetch loop stopped: no heartbeat. */
  @Int(1000) WORKER_STALL_MS = 15000;
  // Prometheus endpoint of each worker (0 = off: several local workers would share one port).
  @Port() WORKER_METRICS_PORT = 0;
  /** How often a worker republishes what it serves, so /performance and /args recover after Redis lost them. */
  @Int(1000) MODEL_INFO_REFRESH_MS = 30000;
}

/** The names of every setting, e.g. for checking deployment manifests against the schema. */
export function configKeys(): (keyof TagserveConfig)[] {
  return Object.keys(new TagserveConfig()) as (keyof TagserveConfig)[];
}

/** Validates a plain environment object (unknown keys ignored); throws with every problem listed. */
export function validateConfig(env: Record<string, unknown>): TagserveConfig {
  const known = new Set<string>(configKeys());
  const given = Object.fromEntries(Object.entries(env).filter(([key, value]) => known.has(key) && value !== undefined));
  const config = plainToInstance(TagserveConfig, given, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true, stopAtFirstError: true });
  const problems = [...errors.flatMap(describe), ...relations(config)];
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  return config;
}

function describe(error: ValidationError): string[] {
  return Object.values(error.constraints ?? {}).map((message) => `${message} (got ${JSON.stringify(error.value)})`);
}

/** Settings that are valid alone but not together. */
function relations(config: TagserveConfig): string[] {
  const problems: string[] = [];
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS)
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS');
  if (config.HTTP_BODY_TIMEOUT_MS >= config.HTTP_REQUEST_TIMEOUT_MS) problems.push('HTTP_BODY_TIMEOUT_MS must be less than HTTP_REQUEST_TIMEOUT_MS');
  return problems;
}
