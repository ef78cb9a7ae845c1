import { Module, ValidationPipe, HttpStatus } from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { TagserveConfig, TagserveConfigModule } from '@tagserve/config';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModelInfoModule } from './model-info/model-info.module';
import { PredictModule } from './predict/predict.module';
import { QueueConnectionModule } from './queue/queue-connection.module';

@Module({
  imports: [
    TagserveConfigModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<TagserveConfig, true>) => [
        { ttl: config.get('THROTTLE_TTL_MS'), limit: config.get('THROTTLE_LIMIT') },
      ],
    }),
    QueueConnectionModule,
    MetricsModule,
    PredictModule,
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
