import { BullModule } from '@nestjs/bullmq';
import { HttpStatus, Module, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { pickSettings, producerConnection, REDIS_SETTINGS, TagserveConfigModule, TagserveConfigService } from '@tagserve/config';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeyThrottlerGuard } from './auth/api-key-throttler.guard';
import { throttlerOptions } from './auth/throttler-options';
import { AuthModule } from './auth/auth.module';
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
        connection: producerConnection(pickSettings(config, ...REDIS_SETTINGS, 'REDIS_WAIT_MS')),
        prefix: config.get('QUEUE_PREFIX'),
      }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: TagserveConfigService) => throttlerOptions(pickSettings(config, 'THROTTLE_TTL_MS', 'THROTTLE_LIMIT')),
    }),
    AuthModule,
    QueueConnectionModule,
    MetricsModule,
    PredictModule,
    JobsModule,
    ModelInfoModule,
    HealthModule,
  ],
  providers: [
    // Throttle first (per key, or per IP for requests without a valid key), then authenticate.
    { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
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
