import { Module } from '@nestjs/common';
import { ModelModule } from '../model/model.module';
import { PredictionProcessor } from './prediction.processor';
import { PredictionWorker } from './prediction.worker';

@Module({
  imports: [ModelModule],
  providers: [PredictionProcessor, PredictionWorker],
  exports: [PredictionWorker, ModelModule],
})
export class PredictionModule {}
