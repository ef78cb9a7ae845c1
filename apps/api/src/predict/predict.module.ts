import { Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { PredictController } from './predict.controller';
import { PredictionEvents } from './prediction-events';
import { PredictionService } from './prediction.service';

@Module({
  imports: [PredictionQueueModule],
  controllers: [PredictController],
  providers: [PredictionService, PredictionEvents],
})
export class PredictModule {}
