import { Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { ModelInfoController } from './model-info.controller';
import { ModelInfoService } from './model-info.service';

@Module({
  imports: [PredictionQueueModule],
  controllers: [ModelInfoController],
  providers: [ModelInfoService],
})
export class ModelInfoModule {}
