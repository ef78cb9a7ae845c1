import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { redisConnectionFrom, TagserveConfig } from '@tagserve/config';
import { PREDICTION_QUEUE } from './prediction-job';

/** BullMQ root connection plus the prediction queue, as the gateway and the worker both see it. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<TagserveConfig, true>) => ({
        connection: redisConnectionFrom(config),
        prefix: config.get('QUEUE_PREFIX'),
      }),
    }),
    BullModule.registerQueueAsync({
      name: PREDICTION_QUEUE,
      inject: [ConfigService],
      useFactory: (config: ConfigService<TagserveConfig, true>) => ({
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
