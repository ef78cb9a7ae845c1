import { Injectable, Logger } from '@nestjs/common';
import { BulkJobData, BulkJobResult, ChunkJobData, ChunkResult, orderChunks } from '@tagserve/queue';
import { Job, UnrecoverableError } from 'bullmq';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ModelService } from '../model/model.service';
import { WORKER_ID } from '../prediction/prediction.processor';
import { evaluateChunks, modelVersions } from './bulk-evaluation';

/** What bulk jobs do on a worker: a chunk's texts through the micro-batcher; a finished flow summed up. */
@Injectable()
export class BulkProcessor {
  private readonly logger = new Logger(BulkProcessor.name);

  constructor(
    private readonly model: ModelService,
    private readonly metrics: WorkerMetricsService,
  ) {}

  /**
   * One chunk, through the same micro-batcher as /predict jobs, in its bulk lane: a /predict text
   * goes into the next inference ahead of every chunk text, and waits at most for the chunk
   * inference in progress (BATCH_BULK_MAX_SIZE texts while /predict traffic is about).
   */
  async chunk(job: Job<ChunkJobData, ChunkResult>): Promise<ChunkResult> {
    const { offset, texts, expected } = job.data ?? ({} as ChunkJobData);
    if (!Number.isInteger(offset) || !Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      throw new UnrecoverableError('chunk data must have an integer offset and a non-empty texts array of strings');
    }
    const predictions = await this.model.batcher.predict(texts, 'bulk');
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
