import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { consumerConnection, pickSettings, REDIS_SETTINGS, TagserveConfigService } from '@tagserve/config';
import { parseReply, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult, PredictionReply, replyChannel } from '@tagserve/queue';
import { Job, Queue } from 'bullmq';
import { QueueConnection } from '../queue/queue-connection.service';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

/** A job not heard of for this long has its state read from Redis (a reply may have been missed). */
export const CHECK_AFTER_MS = 1000;

/** The job did not finish within PREDICT_TIMEOUT_MS; it stays queued. */
export class JobTimeoutError extends Error {}
/** The job failed for good (all attempts used, or unrecoverable). */
export class JobFailedError extends Error {}
/** The job is gone from Redis (e.g. Redis restarted without it) or the gateway is stopping. */
export class JobLostError extends Error {}
/** Too few replicas confirmed the job (QUEUE_ADD_REPLICA_ACKS): a failover could lose it, so the caller retries. */
export class JobUnreplicatedError extends Error {}

interface Waiter {
  resolve: (result: PredictionJobResult) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** When the job was known to be in Redis; undefined while it is being added. */
  queuedAt?: number;
}

/**
 * Delivers each job's outcome to the request(s) waiting for it. Workers publish the outcome on
 * this gateway's own channel (`replyTo` in the job data); a sweep reads the job state from Redis
 * for jobs not heard of for CHECK_AFTER_MS, and for every job after the subscriber reconnects,
 * so a message lost with a connection never strands a request.
 */
@Injectable()
export class PredictionReplies implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PredictionReplies.name);
  /** Unique per gateway process; job ids start with it, so ids from several gateways never clash. */
  private readonly gatewayId = randomBytes(6).toString('hex');
  readonly channel: string;
  private readonly subscriber: Redis;
  private readonly waiters = new Map<string, Waiter>();
  private sequence = 0;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private lastError?: string;

  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    private readonly connection: QueueConnection,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.channel = replyChannel(config.get('QUEUE_PREFIX'), this.gatewayId);
    this.subscriber = new Redis({
      // A subscriber waits out outages (ioredis resubscribes on reconnect); the sweep covers the gap.
      ...consumerConnection(pickSettings(config, ...REDIS_SETTINGS)),
      connectionName: `tagserve-replies-${this.gatewayId}`,
      lazyConnect: true,
    });
  }

  onModuleInit(): void {
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    this.subscriber.on('error', (err: Error) => {
      if (err.message !== this.lastError) this.logger.error({ msg: 'reply channel connection error', err: err.message });
      this.lastError = err.message;
    });
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      this.lastError = undefined;
      // ioredis resubscribes on reconnect, but whatever was published in between is lost.
      if (connectedBefore) void this.sweep(0);
      connectedBefore = true;
    });
    // Not awaited: the gateway starts (and reports not-ready) while Redis is down; the sweep covers the gap.
    this.subscriber.subscribe(this.channel).catch((err: Error) => this.logger.error({ msg: 'reply channel subscribe failed', err: err.message }));
    this.sweepTimer = setInterval(() => void this.sweep(CHECK_AFTER_MS), CHECK_AFTER_MS);
    this.sweepTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
    this.subscriber.disconnect();
    for (const jobId of [...this.waiters.keys()]) this.settle(jobId, new JobLostError(`gateway stopped before job ${jobId} finished`));
  }

  /** A new job id; the waiter is registered before the job exists, so no reply can come too early. */
  nextJobId(): string {
    return `${this.gatewayId}-${++this.sequence}`;
  }

  /** Resolves with the job's result; rejects with JobTimeoutError, JobFailedError or JobLostError. */
  wait(jobId: string, timeoutMs: number): Promise<PredictionJobResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(jobId, new JobTimeoutError(`Prediction job ${jobId} did not finish within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(jobId, { resolve, reject, timer });
    });
  }

  /** The job is in Redis now: from here on the sweep may look it up. */
  queued(jobId: string): void {
    const waiter = this.waiters.get(jobId);
    if (waiter) waiter.queuedAt = Date.now();
  }

  /** Stops waiting (the job could not be added). */
  cancel(jobId: string, err: Error): void {
    this.settle(jobId, err);
  }

  private onMessage(message: string): void {
    const reply = parseReply(message);
    if (!reply) {
      this.logger.warn({ msg: 'ignored a malformed reply', length: message.length });
      return;
    }
    this.settle(reply.jobId, outcome(reply));
  }

  private settle(jobId: string, outcome: PredictionJobResult | Error): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return; // already answered (e.g. timed out, or found by the sweep first)
    this.waiters.delete(jobId);
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  /** Reads the state of every job queued more than `olderThanMs` ago (BullMQ's Job.fromId, all at once). */
  private async sweep(olderThanMs: number): Promise<void> {
    if (this.sweeping || !this.connection.ready) return; // commands would fail at once; the next sweep retries
    const now = Date.now();
    const jobIds = [...this.waiters].filter(([, w]) => w.queuedAt !== undefined && now - w.queuedAt >= olderThanMs).map(([id]) => id);
    if (jobIds.length === 0) return;
    this.sweeping = true;
    try {
      const jobs = await Promise.all(jobIds.map((jobId) => Job.fromId<PredictionJobData, PredictionJobResult>(this.queue, jobId)));
      jobs.forEach((job, i) => {
        const found = jobState(jobIds[i], job);
        if (found) this.settle(jobIds[i], found);
      });
    } catch (err) {
      this.logger.warn({ msg: 'job state sweep failed', err: (err as Error).message });
    } finally {
      this.sweeping = false;
    }
  }
}

function outcome(reply: PredictionReply): PredictionJobResult | Error {
  return 'result' in reply ? reply.result : new JobFailedError(reply.failedReason);
}

/**
 * A job's outcome from what BullMQ recorded, or undefined while it is queued, running or waiting
 * for a retry. A job retried after a failure keeps its old failedReason when it then completes,
 * so a recorded result decides, not the presence of a failure.
 */
export function jobState(
  jobId: string,
  job: Pick<Job<unknown, unknown>, 'finishedOn' | 'returnvalue' | 'failedReason'> | undefined,
): PredictionJobResult | Error | undefined {
  if (!job) return new JobLostError(`Prediction job ${jobId} is no longer in Redis (was Redis restarted?), retry`);
  if (!job.finishedOn) return undefined;
  const result = job.returnvalue as PredictionJobResult | null | undefined;
  if (result && typeof result === 'object' && Array.isArray(result.predictions)) return result;
  return new JobFailedError(job.failedReason || `job ${jobId} finished without a readable result`);
}
