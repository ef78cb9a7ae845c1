import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
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
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready to answer predictions: Redis reachable and at least one worker with its model loaded. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.queue.redis(), () => this.queue.workers()]);
  }
}
