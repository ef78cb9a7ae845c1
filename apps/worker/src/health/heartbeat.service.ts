import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { rmSync, writeFileSync } from 'node:fs';
import { PredictionWorker } from '../prediction/prediction.worker';

const LATE = Symbol('late');

/**
 * The worker has no HTTP port, so its container healthcheck reads this file instead. It is
 * refreshed every WORKER_HEARTBEAT_MS only while the worker does its job (PredictionWorker.liveness:
 * consuming, no job stuck in the model, no stalled fetch loop), which also proves the event loop
 * is not stuck; otherwise it goes stale and the container turns unhealthy and is restarted.
 * Removed on shutdown.
 */
@Injectable()
export class HeartbeatService implements OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly file: string;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private check?: Promise<string | undefined>;
  private checkStartedAt = 0;
  private problem?: string;

  constructor(
    @Inject(ConfigService) config: TagserveConfigService,
    private readonly worker: PredictionWorker,
  ) {
    this.file = config.get('WORKER_HEARTBEAT_FILE');
    this.intervalMs = config.get('WORKER_HEARTBEAT_MS');
  }

  /** Called once the BullMQ worker runs (main.ts). */
  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    rmSync(this.file, { force: true });
  }

  private async beat(): Promise<void> {
    // One check at a time; one that Redis leaves unanswered for half a beat is a failed beat.
    if (!this.check) {
      this.checkStartedAt = Date.now();
      this.check = this.worker
        .liveness()
        .catch((err: Error) => `liveness check failed: ${err.message}`)
        .finally(() => (this.check = undefined));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), this.intervalMs / 2)));
    const outcome = await Promise.race([this.check, late]);
    clearTimeout(timer);
    const problem = outcome === LATE ? `liveness check unanswered by Redis for ${Date.now() - this.checkStartedAt} ms` : outcome;
    // Said once when it starts and once when it ends, not every beat.
    if (problem && problem !== this.problem) this.logger.warn({ msg: 'worker unhealthy, heartbeat withheld', reason: problem });
    if (!problem && this.problem) this.logger.log({ msg: 'worker healthy again, heartbeat resumed' });
    this.problem = problem;
    if (problem) return;
    try {
      writeFileSync(this.file, `${Date.now()}\n`);
    } catch (err) {
      this.logger.warn({ msg: 'cannot write heartbeat file', file: this.file, err: (err as Error).message });
    }
  }
}
