import { NestFactory } from '@nestjs/core';
import { createLogger, validateConfig } from '@tagserve/config';
import { HeartbeatService } from './health/heartbeat.service';
import { ModelService } from './model/model.service';
import { BulkWorker } from './bulk/bulk.worker';
import { PredictionWorker } from './prediction/prediction.worker';
import { WorkerModule } from './worker.module';

/**
 * The worker starts in an explicit order: the model is materialized, verified, loaded and warmed
 * up; only then does the BullMQ worker register with Redis, and only then does the heartbeat
 * (the container's health) start. So a worker that Redis knows about can always answer.
 */
async function bootstrap(): Promise<void> {
  const config = validateConfig(process.env);
  const logger = createLogger(config, 'worker');
  // A SIGTERM before the shutdown hooks exist is held back and replayed to them, not fatal.
  let early: NodeJS.Signals | undefined;
  const holdBack = (signal: NodeJS.Signals) => (early = signal);
  process.once('SIGTERM', holdBack).once('SIGINT', holdBack);
  // No HTTP server: the worker talks to Redis only. abortOnError: false lets a start-up failure
  // (e.g. a checksum mismatch) reach the fatal log below.
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger, abortOnError: false });
  await app.get(ModelService).load();
  if (!early) await app.get(PredictionWorker).start();
  if (!early) await app.get(BulkWorker).start();
  if (!early) app.get(HeartbeatService).start();
  // SIGTERM closes the BullMQ worker, which lets the jobs in flight finish; then exit 0 (a clean
  // stop, not death by signal), so orchestrators do not count a graceful stop as a crash.
  // Nest's listeners go on before holdBack comes off: Node closes a signal's watcher when its last
  // listener goes, and a signal already caught but not yet dispatched is dropped with it (1 of 6
  // workers sent SIGTERM right after "worker ready" never stopped). A signal both listeners see
  // runs the shutdown once (Nest ignores the replay).
  app.enableShutdownHooks([], { useProcessExit: true });
  process.off('SIGTERM', holdBack).off('SIGINT', holdBack);
  if (early) process.kill(process.pid, early);
}

void bootstrap().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', context: 'worker', message: 'failed to start', error: String(err?.message ?? err), stack: err?.stack }));
  process.exit(1);
});
