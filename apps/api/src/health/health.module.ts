import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PredictionQueueModule } from '@tagserve/queue';
import { HealthController } from './health.controller';
import { QueueHealthIndicator } from './queue.health';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), PredictionQueueModule],
  controllers: [HealthController],
  providers: [QueueHealthIndicator],
})
export class HealthModule {}
