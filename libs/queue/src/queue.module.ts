import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { TagserveConfigService } from '@tagserve/config';
import { ConfigService } from '@nestjs/config';
import { PREDICTION_QUEUE } from './prediction-job';

/**
 * The prediction queue as the gateway adds to it: job options (attempts, backoff, retention).
 * The connection comes from `BullModule.forRootAsync` in the importing app's root module, so
 * the producer (fails fast) and the consumer (waits out outages) can connect differently.
 */
@Module({
  imports: [
    BullModule.registerQueueAsync({
      name: PREDICTION_QUEUE,
      inject: [ConfigService],
      useFactory: (config: TagserveConfigService) => ({
        defaultJobOptions: {
          attempts: config.get('JOB_ATTEMPTS'),
          backoff: { type: 'exponential', delay: 200 },
          // Bounded retention: results are read once by the waiting request, failures kept longer for inspection.
          removeOnComplete: { count: config.get('JOB_KEEP_COMPLETED'), age: config.get('JOB_KEEP_SECONDS') },
          removeOnFail: { count: config.get('JOB_KEEP_FAILED'), age: 24 * 3600 },
        },
      }),
    }),
  ],
  exports: [BullModule],
})
export class PredictionQueueModule {}
