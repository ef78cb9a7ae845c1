import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const PING_TIMEOUT_MS = 1000;

/** Readiness means the gateway can reach Redis and some worker with a loaded model is listening. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    private readonly health: HealthIndicatorService,
  ) {}

  async redis(key = 'redis') {
    const indicator = this.health.check(key);
    try {
      const client = (await this.queue.client) as unknown as Redis;
      if (client.status !== 'ready') return indicator.down({ message: `connection ${client.status}` });
      await withTimeout(client.ping(), PING_TIMEOUT_MS);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }

  async workers(key = 'workers') {
    const indicator = this.health.check(key);
    try {
      // Workers register with Redis only after their model is loaded and warmed up.
      const count = await withTimeout(this.queue.getWorkersCount(), PING_TIMEOUT_MS);
      return count > 0 ? indicator.up({ count }) : indicator.down({ count, message: 'no worker with a loaded model' });
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
