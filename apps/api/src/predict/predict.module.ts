import { Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { PredictController } from './predict.controller';
import { PredictionReplies } from './prediction-replies';
import { PredictionService } from './prediction.service';

@Module({
  imports: [PredictionQueueModule],
  controllers: [PredictController],
  providers: [PredictionService, PredictionReplies],
})
export class PredictModule {}
