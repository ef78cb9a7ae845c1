import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** How long the gateway waits on Redis for anything a request needs before answering 503. */
export const REDIS_WAIT_MS = 2000;

/**
 * The gateway's view of its Redis connection. The BullMQ client retries forever (and queues
 * commands meanwhile), so anything a request awaits on Redis must be bounded here, or a dead
 * Redis or a wrong password turns into requests that never get an answer.
 */
@Injectable()
export class QueueConnection implements OnModuleInit {
  private readonly logger = new Logger(QueueConnection.name);
  private lastError?: string;

  constructor(@InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue) {}

  onModuleInit(): void {
    this.queue.on('error', (err: Error) => {
      // Logged once per distinct error: a reconnect loop must say why without flooding the log.
      if (err.message !== this.lastError) this.logger.error({ msg: 'redis connection error', err: err.message });
      this.lastError = err.message;
    });
  }

  /** The connected client right now, or a 503 (with the reason, e.g. WRONGPASS) without waiting for a reconnect. */
  async client(): Promise<Redis> {
    const client = await withTimeout(this.queue.client, REDIS_WAIT_MS, 'no Redis connection yet').catch(() => undefined);
    if (!client || client.status !== 'ready') throw this.unavailable(client ? `connection ${client.status}` : 'not connected');
    this.lastError = undefined;
    return client as unknown as Redis;
  }

  /** Runs Redis work for a request within REDIS_WAIT_MS; Redis failures become 503 with Retry-After. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work(), REDIS_WAIT_MS, `no answer from Redis within ${REDIS_WAIT_MS} ms`);
    } catch (err) {
      throw this.unavailable((err as Error).message);
    }
  }

  unavailable(reason: string): ServiceUnavailableException {
    const detail = this.lastError && !reason.includes(this.lastError) ? `${reason}: ${this.lastError}` : reason;
    return new ServiceUnavailableException({ message: `Queue backend (Redis) is unavailable (${detail}), retry shortly`, headers: { 'Retry-After': '2' } });
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
