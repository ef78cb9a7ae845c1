import { Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { InferenceBatcher } from './inference-batcher';
import { loadServedModel, ServedModel } from './served-model';

@Module({
  providers: [
    {
      // Async provider: Nest finishes it before any consumer (the BullMQ worker) is built.
      provide: ServedModel,
      inject: [ConfigService],
      useFactory: (config: ConfigService<TagserveConfig, true>) =>
        loadServedModel(
          {
            MODEL_DVC_FILE: config.get('MODEL_DVC_FILE'),
            DVC_STORE_DIR: config.get('DVC_STORE_DIR'),
            MODEL_DIR: config.get('MODEL_DIR'),
            ONNX_INTRA_OP_THREADS: config.get('ONNX_INTRA_OP_THREADS'),
            ONNX_INTER_OP_THREADS: config.get('ONNX_INTER_OP_THREADS'),
          },
          new Logger('ModelLoader'),
        ),
    },
    {
      provide: InferenceBatcher,
      inject: [ServedModel, ConfigService, WorkerMetricsService],
      useFactory: (model: ServedModel, config: ConfigService<TagserveConfig, true>, metrics: WorkerMetricsService) => {
        const batcher = new InferenceBatcher(
          (texts) => model.predict(texts),
          { maxBatchSize: config.get('BATCH_MAX_SIZE'), maxWaitMs: config.get('BATCH_MAX_WAIT_MS') },
          (texts) => model.predictHere(texts),
        );
        batcher.onBatch(({ size, ms }) => {
          metrics.batchSize.observe(size);
          metrics.batchDuration.observe(ms / 1000);
        });
        return batcher;
      },
    },
  ],
  exports: [ServedModel, InferenceBatcher],
})
export class ModelModule implements OnApplicationShutdown {
  constructor(private readonly model: ServedModel) {}

  /** After the BullMQ worker has drained (PredictionProcessor.beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    await this.model.close();
  }
}
