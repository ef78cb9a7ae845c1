import { BullModule } from '@nestjs/bullmq';
import { HttpStatus, Module, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { pickSettings, producerConnection, TagserveConfigModule, TagserveConfigService } from '@tagserve/config';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModelInfoModule } from './model-info/model-info.module';
import { PredictModule } from './predict/predict.module';
import { QueueConnectionModule } from './queue/queue-connection.module';

@Module({
  imports: [
    TagserveConfigModule,
    // The gateway is a BullMQ producer: its connection fails fast (see producerConnection).
    BullModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: TagserveConfigService) => ({
        connection: producerConnection(pickSettings(config, 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD', 'REDIS_DB', 'REDIS_WAIT_MS')),
        prefix: config.get('QUEUE_PREFIX'),
      }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: TagserveConfigService) => [{ ttl: config.get('THROTTLE_TTL_MS'), limit: config.get('THROTTLE_LIMIT') }],
    }),
    QueueConnectionModule,
    MetricsModule,
    PredictModule,
    JobsModule,
    ModelInfoModule,
    HealthModule,
  ],
  providers: [
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        // 422 as in the original FastAPI service: the JSON parsed, its content is invalid.
        errorHttpStatusCode: HttpStatus.UNPROCESSABLE_ENTITY,
      }),
    },
  ],
})
export class AppModule {}
