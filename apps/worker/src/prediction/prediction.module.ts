import { Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { ModelModule } from '../model/model.module';
import { PredictionProcessor } from './prediction.processor';

@Module({
  imports: [PredictionQueueModule, ModelModule],
  providers: [PredictionProcessor],
})
export class PredictionModule {}
