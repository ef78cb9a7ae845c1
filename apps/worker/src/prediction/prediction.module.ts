import { Module } from '@nestjs/common';
import { BulkProcessor } from '../bulk/bulk.processor';
import { BulkWorker } from '../bulk/bulk.worker';
import { ModelModule } from '../model/model.module';
import { PredictionProcessor } from './prediction.processor';
import { PredictionWorker } from './prediction.worker';

@Module({
  imports: [ModelModule],
  providers: [PredictionProcessor, BulkProcessor, PredictionWorker, BulkWorker],
  exports: [PredictionWorker, BulkWorker, ModelModule],
})
export class PredictionModule {}
