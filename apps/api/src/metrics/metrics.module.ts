import { Global, Module } from '@nestjs/common';
import { PredictionQueueModule } from '@tagserve/queue';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Global()
@Module({
  imports: [PredictionQueueModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
// The HTTP timing middleware is mounted by configureApp, first of all (see http-metrics.middleware.ts).
export class MetricsModule {}
