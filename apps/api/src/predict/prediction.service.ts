import { InjectQueue } from '@nestjs/bullmq';
import {
  BadGatewayException,
  GatewayTimeoutException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { PREDICT_JOB, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { MetricsService } from '../metrics/metrics.service';
import { QueueConnection } from '../queue/queue-connection.service';
import { PredictionEvents } from './prediction-events';

/** How stale the gateway's view of the queue depth may be; adds in between are counted locally. */
const WAITING_REFRESH_MS = 100;

@Injectable()
export class PredictionService {
  private readonly logger = new Logger(PredictionService.name);
  private readonly timeoutMs: number;
  private readonly maxTexts: number;
  private readonly maxTextLength: number;
  private readonly maxWaiting: number;
  private waiting = { count: 0, readAt: 0 };
  private waitingRead?: Promise<number>;

  constructor(
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue<PredictionJobData, PredictionJobResult>,
    private readonly events: PredictionEvents,
    private readonly metrics: MetricsService,
    private readonly connection: QueueConnection,
    config: ConfigService<TagserveConfig, true>,
  ) {
    this.timeoutMs = config.get('PREDICT_TIMEOUT_MS');
    this.maxTexts = config.get('MAX_TEXTS');
    this.maxTextLength = config.get('MAX_TEXT_LENGTH');
    this.maxWaiting = config.get('QUEUE_MAX_WAITING');
  }

  /** The configurable limits, checked after the DTO has validated the shape. */
  assertWithinLimits(texts: string[]): void {
    if (texts.length > this.maxTexts) {
      throw new UnprocessableEntityException(`texts must contain at most ${this.maxTexts} items (got ${texts.length})`);
    }
    const tooLong = texts.findIndex((text) => text.length > this.maxTextLength);
    if (tooLong >= 0) {
      throw new UnprocessableEntityException(
        `texts[${tooLong}].text must be at most ${this.maxTextLength} characters (got ${texts[tooLong].length})`,
      );
    }
  }

  async predict(texts: string[], requestId: string): Promise<PredictionJobResult> {
    await this.assertQueueAccepting();
    // Bounded: Redis dropping between the check and the add must give a 503, not a request that hangs.
    const job = await this.connection.run(() => this.queue.add(PREDICT_JOB, { texts, requestId }));
    this.waiting.count++;
    this.logger.debug?.({ msg: 'job queued', requestId, jobId: job.id, texts: texts.length });
    try {
      const result = await job.waitUntilFinished(this.events.queueEvents, this.timeoutMs);
      this.metrics.predictedTexts.inc(texts.length);
      this.metrics.inferenceDuration.observe(result.inferenceMs / 1000);
      this.logger.debug?.({ msg: 'job answered', requestId, jobId: job.id, worker: result.worker });
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.includes('timed out before finishing')) {
        // The job stays queued and will still be processed; the caller learns its id.
        this.logger.warn({ msg: 'prediction timed out', requestId, jobId: job.id, timeoutMs: this.timeoutMs });
        throw new GatewayTimeoutException({ message: `Prediction job ${job.id} did not finish within ${this.timeoutMs} ms`, details: { jobId: job.id } });
      }
      this.logger.error({ msg: 'prediction failed', requestId, jobId: job.id, err: message });
      throw new BadGatewayException({ message: `Prediction job ${job.id} failed: ${message}`, details: { jobId: job.id } });
    }
  }

  /** Fail fast with 503/429 rather than letting requests pile up behind a dead Redis or a full queue. */
  private async assertQueueAccepting(): Promise<void> {
    await this.connection.client();
    const waiting = await this.waitingCount();
    if (waiting >= this.maxWaiting) {
      throw new HttpException(
        { message: `Too many queued predictions (${waiting} waiting, limit ${this.maxWaiting}), retry shortly`, headers: { 'Retry-After': '1' } },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /**
   * Queue depth for backpressure, read from Redis at most every WAITING_REFRESH_MS (one shared
   * read for all requests in flight) instead of one extra round trip per request.
   */
  private async waitingCount(): Promise<number> {
    if (Date.now() - this.waiting.readAt < WAITING_REFRESH_MS) return this.waiting.count;
    this.waitingRead ??= this.connection
      .run(() => this.queue.getWaitingCount())
      .then((count) => {
        this.waiting = { count, readAt: Date.now() };
        return count;
      })
      .finally(() => (this.waitingRead = undefined));
    return this.waitingRead;
  }
}
