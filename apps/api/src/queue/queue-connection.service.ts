import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The gateway's view of its Redis connection. The connection options (see producerConnection)
 * already bound every command: no offline queue, one retry, a command timeout. What they cannot
 * bound is the first connection: BullMQ's `queue.client` waits for Redis to be ready, for ever,
 * and a wrong password never becomes ready. So a request that finds no connection yet waits at
 * most REDIS_WAIT_MS for one, and every Redis failure becomes a 503 that says why (e.g. WRONGPASS).
 */
@Injectable()
export class QueueConnection implements OnModuleInit {
  private readonly logger = new Logger(QueueConnection.name);
  private readonly waitMs: number;
  private lastError?: string;
  private connected?: Redis;
  /** Counts the connection's (re)connects: commands sent in one generation all went to the same server. */
  generation = 0;

  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.waitMs = config.get('REDIS_WAIT_MS');
  }

  onModuleInit(): void {
    this.queue.on('error', (err: Error) => {
      // Logged once per distinct error: a reconnect loop must say why without flooding the log.
      if (err.message !== this.lastError) this.logger.error({ msg: 'redis connection error', err: err.message });
      this.lastError = err.message;
    });
    void this.queue.client
      .then((client) => {
        this.connected = client as unknown as Redis;
        this.connected.on('ready', () => this.generation++);
      })
      .catch(() => undefined);
  }

  /** True while the connection is up: callers that can do without Redis (metrics) skip it otherwise. */
  get ready(): boolean {
    return this.connected?.status === 'ready';
  }

  /** The connected client right now, or a 503 (with the reason) after at most REDIS_WAIT_MS. */
  async client(): Promise<Redis> {
    if (!this.connected) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.waitMs)));
      await Promise.race([this.queue.client.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
    }
    const client = this.connected;
    if (!client || client.status !== 'ready') throw this.unavailable(client ? `connection ${client.status}` : 'not connected');
    this.lastError = undefined;
    return client;
  }

  /** Runs Redis work for a request; a Redis failure (timeout, connection lost) becomes a 503 with Retry-After. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.client();
    try {
      return await work();
    } catch (err) {
      throw this.unavailable((err as Error).message);
    }
  }

  unavailable(reason: string): ServiceUnavailableException {
    const detail = this.lastError && !reason.includes(this.lastError) ? `${reason}: ${this.lastError}` : reason;
    return new ServiceUnavailableException({ message: `Queue backend (Redis) is unavailable (${detail}), retry shortly`, headers: { 'Retry-After': '2' } });
  }
}
