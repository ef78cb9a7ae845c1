import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { pickSettings, TagserveConfigService } from '@tagserve/config';
import type { Prediction } from '@tagserve/model/types';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { InferenceBatcher } from './inference-batcher';
import { PredictionCache } from './prediction-cache';
import { loadServedModel, ServedModel } from './served-model';

/** Characters of text the cache may hold per entry on average (course texts: ~140; longer ones just evict sooner). */
const CACHE_CHARS_PER_TEXT = 1000;

/**
 * The model this worker serves and the micro-batcher in front of it. Loaded explicitly by
 * main.ts (materialize from the DVC store, verify every md5, load, warm up) before the BullMQ
 * worker starts, so a worker Redis knows about can always answer.
 */
@Injectable()
export class ModelService implements OnApplicationShutdown {
  private readonly logger = new Logger('ModelLoader');
  private loaded?: { model: ServedModel; batcher: InferenceBatcher<Prediction> };

  constructor(
    @Inject(ConfigService) private readonly config: TagserveConfigService,
    private readonly metrics: WorkerMetricsService,
  ) {}

  async load(): Promise<void> {
    const settings = pickSettings(this.config, 'MODEL_DVC_FILE', 'DVC_STORE_DIR', 'MODEL_DIR', 'ONNX_INTRA_OP_THREADS', 'ONNX_INTER_OP_THREADS');
    const model = await loadServedModel(settings, this.logger);
    const cacheSize = this.config.get('PREDICTION_CACHE_SIZE');
    const cache = cacheSize > 0 ? new PredictionCache<unknown>({ maxEntries: cacheSize, maxChars: cacheSize * CACHE_CHARS_PER_TEXT }) : undefined;
    cache?.onLookup((hit) => this.metrics.cacheLookups.inc({ result: hit ? 'hit' : 'miss' }));
    const batcher = new InferenceBatcher<Prediction>(
      (texts) => model.predict(texts),
      {
        maxBatchSize: this.config.get('BATCH_MAX_SIZE'),
        maxWaitMs: this.config.get('BATCH_MAX_WAIT_MS'),
        maxBatchTokens: this.config.get('BATCH_MAX_TOKENS') || undefined,
        maxBulkBatchSize: this.config.get('BATCH_BULK_MAX_SIZE'),
        cache,
      },
      (texts) => model.predictHere(texts),
    );
    batcher.onBatch(({ size, ms }) => {
      this.metrics.batchSize.observe(size);
      this.metrics.batchDuration.observe(ms / 1000);
    });
    this.loaded = { model, batcher };
  }

  get model(): ServedModel {
    return this.require().model;
  }

  get batcher(): InferenceBatcher<Prediction> {
    return this.require().batcher;
  }

  /** After the BullMQ worker has drained (PredictionWorker.beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.loaded?.model.close();
  }

  private require(): { model: ServedModel; batcher: InferenceBatcher<Prediction> } {
    if (!this.loaded) throw new Error('the model is not loaded yet (ModelService.load)');
    return this.loaded;
  }
}
