import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, validateSync, ValidationError } from 'class-validator';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment strings to numbers; anything that is not a finite number stays as it is and fails validation. */
const toNumber = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string' || value.trim() === '') return value;
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  });

const Port = () => (target: object, key: string) => {
  toNumber()(target, key);
  IsInt()(target, key);
  Min(0)(target, key);
  Max(65535)(target, key);
};

const Int = (min: number, max = Number.MAX_SAFE_INTEGER) => (target: object, key: string) => {
  toNumber()(target, key);
  IsInt()(target, key);
  Min(min)(target, key);
  Max(max)(target, key);
};

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
  @Matches(/^[a-zA-Z0-9_-]+$/, { message: 'QUEUE_PREFIX may hold letters, digits, _ and - only' }) QUEUE_PREFIX = 'tagserve';

  // Gateway
  @IsString() HOST = '0.0.0.0';
  @Port() PORT = 8000;
  @Int(100) PREDICT_TIMEOUT_MS = 30000;
  @Int(1, 10000) MAX_TEXTS = 64;
  @Int(1) MAX_TEXT_LENGTH = 5000;
  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 512kb, 1mb or 1000b' }) BODY_LIMIT = '512kb';
  @Int(1) QUEUE_MAX_WAITING = 2000;
  @Int(0) JOB_KEEP_COMPLETED = 1000;
  @Int(0) JOB_KEEP_FAILED = 5000;
  @Int(1) JOB_KEEP_SECONDS = 3600;
  @Int(1, 10) JOB_ATTEMPTS = 3;
  @Int(1) THROTTLE_TTL_MS = 60000;
  @Int(1) THROTTLE_LIMIT = 100000;
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
  @Int(1000) STALLED_INTERVAL_MS = 5000;
  @Int(0) SHUTDOWN_GRACE_MS = 25000;
  @IsString() WORKER_HEARTBEAT_FILE = join(tmpdir(), 'tagserve-worker.alive');
  @Int(100) WORKER_HEARTBEAT_MS = 5000;
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
  if (errors.length > 0) throw new Error(`Invalid configuration: ${errors.flatMap(describe).join('; ')}`);
  return config;
}

function describe(error: ValidationError): string[] {
  return Object.values(error.constraints ?? {}).map((message) => `${message} (got ${JSON.stringify(error.value)})`);
}
