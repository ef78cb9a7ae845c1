import { Module } from '@nestjs/common';
import { TagserveConfigModule } from '@tagserve/config';
import { WorkerHealthModule } from './health/health.module';
import { PredictionModule } from './prediction/prediction.module';

@Module({
  imports: [TagserveConfigModule, PredictionModule, WorkerHealthModule],
})
export class WorkerModule {}
