import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { QueueConnection } from '../queue/queue-connection.service';

/** Readiness means the gateway can reach Redis and some worker with a loaded model is listening. */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    private readonly connection: QueueConnection,
    private readonly health: HealthIndicatorService,
  ) {}

  async redis(key = 'redis') {
    const indicator = this.health.check(key);
    try {
      await this.connection.run(async () => (await this.connection.client()).ping());
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: describe(err) });
    }
  }

  async workers(key = 'workers') {
    const indicator = this.health.check(key);
    try {
      // Workers register with Redis only after their model is loaded and warmed up.
      const count = await this.connection.run(() => this.queue.getWorkersCount());
      return count > 0 ? indicator.up({ count }) : indicator.down({ count, message: 'no worker with a loaded model' });
    } catch (err) {
      return indicator.down({ message: describe(err) });
    }
  }
}

/** HttpExceptions carry their text in the response body, plain errors in `message`. */
function describe(err: unknown): string {
  const body = (err as { getResponse?: () => unknown }).getResponse?.();
  const message = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : (err as Error).message;
}
