import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../http/openapi';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { HealthResponseDto } from './health-response.dto';
import { QueueHealthIndicator } from './queue.health';

@ApiTags('health')
@SkipThrottle() // probes run every few seconds from one address: never rate-limit them
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly queue: QueueHealthIndicator,
  ) {}

  /** The process is up and serving HTTP; nothing external is consulted. */
  @Get('live')
  @ApiOkResponse({ type: HealthResponseDto })
  @HealthCheck({ swaggerDocumentation: false }) // its 503 schema is not what the error filter answers
  live() {
    return this.health.check([]);
  }

  /** Ready to answer predictions: Redis reachable and at least one worker with its model loaded. */
  @Get('ready')
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiErrorResponses({ 503: 'Redis unreachable or no worker with a loaded model; `details` holds each check' })
  @HealthCheck({ swaggerDocumentation: false })
  ready() {
    return this.health.check([() => this.queue.redis(), () => this.queue.workers()]);
  }
}
