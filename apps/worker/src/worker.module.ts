import { Module } from '@nestjs/common';
import { TagserveConfigModule } from '@tagserve/config';
import { PredictionModule } from './prediction/prediction.module';

@Module({
  imports: [TagserveConfigModule, PredictionModule],
})
export class WorkerModule {}
