import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfig } from '@tagserve/config';
import { rmSync, writeFileSync } from 'node:fs';

/**
 * The worker has no HTTP port, so its container healthcheck reads this file instead: written
 * once the model is loaded (bootstrap runs after every provider, the model included) and then
 * refreshed on a timer, which also proves the event loop is not stuck. Removed on shutdown.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly file: string;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;

  constructor(config: ConfigService<TagserveConfig, true>) {
    this.file = config.get('WORKER_HEARTBEAT_FILE');
    this.intervalMs = config.get('WORKER_HEARTBEAT_MS');
  }

  onApplicationBootstrap(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    rmSync(this.file, { force: true });
  }

  private beat(): void {
    try {
      writeFileSync(this.file, `${Date.now()}\n`);
    } catch (err) {
      this.logger.warn({ msg: 'cannot write heartbeat file', file: this.file, err: (err as Error).message });
    }
  }
}
