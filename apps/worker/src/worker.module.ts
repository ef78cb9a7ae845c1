import { Module } from '@nestjs/common';
import { TagserveConfigModule } from '@tagserve/config';
import { WorkerHealthModule } from './health/health.module';
import { WorkerMetricsModule } from './metrics/metrics.module';
import { PredictionModule } from './prediction/prediction.module';

@Module({
  imports: [TagserveConfigModule, WorkerMetricsModule, PredictionModule, WorkerHealthModule],
})
export class WorkerModule {}
