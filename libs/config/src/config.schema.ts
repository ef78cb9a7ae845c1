import * as Joi from 'joi';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every setting of the gateway and the worker, validated at start-up so that a typo in
 * the environment stops the process with a clear message instead of misbehaving later.
 */
export const configSchema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'log', 'debug', 'verbose').default('log'),
  LOG_FORMAT: Joi.string().valid('json', 'text').default('json'),

  // Redis (shared by the gateway and the workers)
  REDIS_HOST: Joi.string().hostname().default('127.0.0.1'),
  REDIS_PORT: Joi.number().port().default(6379),
  REDIS_PASSWORD: Joi.string().allow('').default(''),
  REDIS_DB: Joi.number().integer().min(0).max(15).default(0),
  QUEUE_PREFIX: Joi.string().pattern(/^[a-zA-Z0-9_-]+$/).default('tagserve'),

  // Gateway
  HOST: Joi.string().default('0.0.0.0'),
  PORT: Joi.number().port().default(8000),
  PREDICT_TIMEOUT_MS: Joi.number().integer().min(100).default(30000),
  MAX_TEXTS: Joi.number().integer().min(1).max(10000).default(64),
  MAX_TEXT_LENGTH: Joi.number().integer().min(1).default(5000),
  BODY_LIMIT: Joi.string().pattern(/^\d+(b|kb|mb)$/i).default('512kb'),
  QUEUE_MAX_WAITING: Joi.number().integer().min(1).default(2000),
  JOB_KEEP_COMPLETED: Joi.number().integer().min(0).default(1000),
  JOB_KEEP_FAILED: Joi.number().integer().min(0).default(5000),
  JOB_KEEP_SECONDS: Joi.number().integer().min(1).default(3600),
  JOB_ATTEMPTS: Joi.number().integer().min(1).max(10).default(3),
  THROTTLE_TTL_MS: Joi.number().integer().min(1).default(60000),
  THROTTLE_LIMIT: Joi.number().integer().min(1).default(100000),
  // Node's own HTTP timeouts (its defaults: 60 s for headers, 300 s for a whole request): a client
  // that sends a few bytes and stops must not hold a connection for minutes.
  HTTP_HEADERS_TIMEOUT_MS: Joi.number().integer().min(1000).max(Joi.ref('HTTP_REQUEST_TIMEOUT_MS')).default(10000),
  HTTP_REQUEST_TIMEOUT_MS: Joi.number().integer().min(1000).default(30000),
  // The gateway's own limit on receiving a body; answered 408 in the envelope (before Node's bare 408).
  HTTP_BODY_TIMEOUT_MS: Joi.number().integer().min(100).less(Joi.ref('HTTP_REQUEST_TIMEOUT_MS')).default(10000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Joi.number().integer().min(0).default(5000),
  // On SIGTERM, how long requests in flight may finish before their connections are cut (compose gives the api 15 s).
  HTTP_SHUTDOWN_DRAIN_MS: Joi.number().integer().min(0).default(10000),

  // Worker
  MODEL_DVC_FILE: Joi.string().default('stores/model.dvc'),
  DVC_STORE_DIR: Joi.string().default('stores/blob'),
  MODEL_DIR: Joi.string().default('.cache/model'),
  ONNX_INTRA_OP_THREADS: Joi.number().integer().min(1).max(64).default(1),
  ONNX_INTER_OP_THREADS: Joi.number().integer().min(1).max(64).default(1),
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(1024).default(64),
  BATCH_MAX_SIZE: Joi.number().integer().min(1).max(1024).default(16),
  // 0 = continuous batching: no timer; texts that arrive while the model runs form the next batch.
  BATCH_MAX_WAIT_MS: Joi.number().min(0).max(1000).default(0),
  STALLED_INTERVAL_MS: Joi.number().integer().min(1000).default(5000),
  SHUTDOWN_GRACE_MS: Joi.number().integer().min(0).default(25000),
  WORKER_HEARTBEAT_FILE: Joi.string().default(join(tmpdir(), 'tagserve-worker.alive')),
  WORKER_HEARTBEAT_MS: Joi.number().integer().min(100).default(5000),
  // Prometheus endpoint of each worker (0 = off: several local workers would share one port).
  WORKER_METRICS_PORT: Joi.number().port().default(0),
});

export interface TagserveConfig {
  NODE_ENV: 'development' | 'production' | 'test';
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  LOG_FORMAT: 'json' | 'text';
  REDIS_HOST: string;
  REDIS_PORT: number;
  REDIS_PASSWORD: string;
  REDIS_DB: number;
  QUEUE_PREFIX: string;
  HOST: string;
  PORT: number;
  PREDICT_TIMEOUT_MS: number;
  MAX_TEXTS: number;
  MAX_TEXT_LENGTH: number;
  BODY_LIMIT: string;
  QUEUE_MAX_WAITING: number;
  JOB_KEEP_COMPLETED: number;
  JOB_KEEP_FAILED: number;
  JOB_KEEP_SECONDS: number;
  JOB_ATTEMPTS: number;
  THROTTLE_TTL_MS: number;
  THROTTLE_LIMIT: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_BODY_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  HTTP_SHUTDOWN_DRAIN_MS: number;
  MODEL_DVC_FILE: string;
  DVC_STORE_DIR: string;
  MODEL_DIR: string;
  ONNX_INTRA_OP_THREADS: number;
  ONNX_INTER_OP_THREADS: number;
  WORKER_CONCURRENCY: number;
  BATCH_MAX_SIZE: number;
  BATCH_MAX_WAIT_MS: number;
  STALLED_INTERVAL_MS: number;
  SHUTDOWN_GRACE_MS: number;
  WORKER_HEARTBEAT_FILE: string;
  WORKER_HEARTBEAT_MS: number;
  WORKER_METRICS_PORT: number;
}

/** Validates a plain environment object; throws with every problem listed. */
export function validateConfig(env: Record<string, unknown>): TagserveConfig {
  const { error, value } = configSchema.validate(env, { allowUnknown: true, abortEarly: false, convert: true });
  if (error) {
    throw new Error(`Invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  }
  return value as TagserveConfig;
}
