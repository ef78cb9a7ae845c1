import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import type { Prediction } from '@tagserve/model';
import { ModelInfo, modelInfoKey, PREDICTION_QUEUE, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import { InferenceBatcher } from '../model/inference-batcher';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ServedModel } from '../model/served-model';
import { predictionWorkerOptions, WORKER_ID } from './worker-options';

@Processor(PREDICTION_QUEUE, predictionWorkerOptions())
export class PredictionProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(PredictionProcessor.name);

  constructor(
    private readonly model: ServedModel,
    private readonly batcher: InferenceBatcher<Prediction>,
    @InjectQueue(PREDICTION_QUEUE) private readonly queue: Queue,
    private readonly config: ConfigService<TagserveConfig, true>,
    private readonly metrics: WorkerMetricsService,
  ) {
    super();
  }

  /** Tell the gateway what is served, for /performance and /args. */
  async onApplicationBootstrap(): Promise<void> {
    const { classifier, version } = this.model;
    const info: ModelInfo = {
      version,
      labels: classifier.labels,
      args: classifier.args,
      performance: classifier.performance,
      loadedAt: new Date().toISOString(),
    };
    const client = await this.queue.client;
    await client.set(modelInfoKey(this.config.get('QUEUE_PREFIX')), JSON.stringify(info));
    this.logger.log({ msg: 'worker ready', worker: WORKER_ID, version });
  }

  async process(job: Job<PredictionJobData, PredictionJobResult>): Promise<PredictionJobResult> {
    const { texts, requestId } = job.data ?? ({} as PredictionJobData);
    if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      // Retrying cannot fix malformed data: fail at once with the reason.
      throw new UnrecoverableError('job data must have a non-empty texts array of strings');
    }
    const started = performance.now();
    const predictions = await this.batcher.predict(texts);
    const inferenceMs = performance.now() - started;
    this.metrics.jobs.inc({ outcome: 'completed' });
    this.logger.debug?.({ msg: 'job done', jobId: job.id, requestId, texts: texts.length, ms: Math.round(inferenceMs * 10) / 10 });
    return { predictions, worker: WORKER_ID, modelVersion: this.model.version, inferenceMs };
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<PredictionJobData> | undefined, err: Error): void {
    this.metrics.jobs.inc({ outcome: 'failed' });
    this.logger.error({ msg: 'job failed', jobId: job?.id, requestId: job?.data?.requestId, attempt: job?.attemptsMade, err: err.message });
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.error({ msg: 'worker error', err: err.message });
  }
}
