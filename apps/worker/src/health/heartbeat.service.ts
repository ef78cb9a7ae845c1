import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { rmSync, writeFileSync } from 'node:fs';
import { PredictionWorker } from '../prediction/prediction.worker';

/**
 * The worker has no HTTP port, so its container healthcheck reads this file instead. It is
 * refreshed every WORKER_HEARTBEAT_MS only while the BullMQ worker is consuming (running, not
 * closing, connected to Redis), which also proves the event loop is not stuck; a worker that
 * stopped consuming lets it go stale and turns unhealthy. Removed on shutdown.
 */
@Injectable()
export class HeartbeatService implements OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly file: string;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(ConfigService) config: TagserveConfigService,
    private readonly worker: PredictionWorker,
  ) {
    this.file = config.get('WORKER_HEARTBEAT_FILE');
    this.intervalMs = config.get('WORKER_HEARTBEAT_MS');
  }

  /** Called once the BullMQ worker runs (main.ts). */
  start(): void {
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    rmSync(this.file, { force: true });
  }

  private beat(): void {
    if (!this.worker.consuming) return;
    try {
      writeFileSync(this.file, `${Date.now()}\n`);
    } catch (err) {
      this.logger.warn({ msg: 'cannot write heartbeat file', file: this.file, err: (err as Error).message });
    }
  }
}
