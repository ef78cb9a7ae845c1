import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { BulkJobData, BulkJobResult, ChunkJobData, ChunkResult, orderChunks } from '@tagserve/queue';
import { Job, UnrecoverableError } from 'bullmq';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ModelService } from '../model/model.service';
import { PredictionProcessor, WORKER_ID } from '../prediction/prediction.processor';
import { evaluateChunks, modelVersions } from './bulk-evaluation';

/** What bulk jobs do on a worker: a chunk's texts through the micro-batcher; a finished flow summed up. */
@Injectable()
export class BulkProcessor {
  private readonly logger = new Logger(BulkProcessor.name);
  private readonly sliceSize: number;

  constructor(
    private readonly model: ModelService,
    private readonly predictions: PredictionProcessor,
    private readonly metrics: WorkerMetricsService,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.sliceSize = Math.max(1, Math.floor(config.get('BATCH_MAX_SIZE') / 2));
  }

  /**
   * One chunk, through the same micro-batcher as /predict jobs, half a batch at a time: the
   * batcher is first come, first served, so a whole chunk queued at once would put its 32 texts
   * (two inferences) ahead of any /predict text arriving after it. With half a batch waiting at
   * most per chunk (JOBS_CHUNKS_PER_WORKER of them, 2: one batch together), a /predict text goes
   * into the next inference or the one after, beside chunk texts.
   */
  async chunk(job: Job<ChunkJobData, ChunkResult>): Promise<ChunkResult> {
    const { offset, texts, expected } = job.data ?? ({} as ChunkJobData);
    if (!Number.isInteger(offset) || !Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      throw new UnrecoverableError('chunk data must have an integer offset and a non-empty texts array of strings');
    }
    // Counted with the /predict jobs in flight: a full backlog lowers the prediction worker's
    // concurrency to the jobs held (PredictionWorker.pace), never below the chunks, so it keeps taking /predict jobs.
    this.predictions.held++;
    let predictions: Awaited<ReturnType<ModelService['batcher']['predict']>>;
    try {
      predictions = [];
      for (let i = 0; i < texts.length; i += this.sliceSize) predictions.push(...(await this.model.batcher.predict(texts.slice(i, i + this.sliceSize))));
    } finally {
      this.predictions.held--;
    }
    this.metrics.bulkTexts.inc(texts.length);
    const labels = this.model.model.info.labels;
    return {
      offset,
      texts,
      labels,
      tags: predictions.map((p) => p.predicted_tag),
      probabilities: predictions.map((p) => labels.map((label) => p.predicted_probabilities[label])),
      ...(Array.isArray(expected) ? { expected } : {}),
      modelVersion: this.model.model.version,
      worker: WORKER_ID,
    };
  }

  /** Runs once every chunk is done (or the rest were canceled): BullMQ hands over the chunks' results. */
  async finish(job: Job<BulkJobData, BulkJobResult>): Promise<BulkJobResult> {
    const chunks = orderChunks(Object.values(await job.getChildrenValues<ChunkResult>()));
    const done = chunks.reduce((sum, chunk) => sum + chunk.tags.length, 0);
    const canceled = job.data.canceledAt !== undefined;
    const result: BulkJobResult = { canceled, done, modelVersions: modelVersions(chunks) };
    if (job.data.kind === 'evaluate' && !canceled) result.performance = evaluateChunks(chunks);
    this.logger.log({ msg: 'bulk job finished', jobId: job.id, kind: job.data.kind, total: job.data.total, done, canceled });
    return result;
  }
}
