import { NestFactory } from '@nestjs/core';
import { createLogger, validateConfig } from '@tagserve/config';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = validateConfig(process.env);
  const logger = createLogger(config, 'worker');
  // No HTTP server: the worker talks to Redis only. Shutdown hooks make SIGTERM close the
  // BullMQ worker, which waits for in-flight jobs; then exit 0 (a clean stop, not death by
  // signal), so orchestrators and supervisors do not count a graceful stop as a crash.
  // abortOnError: false lets a start-up failure (e.g. a checksum mismatch) reach the fatal log below.
  // createApplicationContext returns only once the model is loaded and the BullMQ worker runs;
  // a SIGTERM before the shutdown hooks exist is held back and replayed to them, not fatal.
  let early: NodeJS.Signals | undefined;
  const holdBack = (signal: NodeJS.Signals) => (early = signal);
  process.once('SIGTERM', holdBack).once('SIGINT', holdBack);
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger, abortOnError: false });
  process.off('SIGTERM', holdBack).off('SIGINT', holdBack);
  app.enableShutdownHooks([], { useProcessExit: true });
  if (early) process.kill(process.pid, early);
}

void bootstrap().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', context: 'worker', message: 'failed to start', error: String(err?.message ?? err), stack: err?.stack }));
  process.exit(1);
});
