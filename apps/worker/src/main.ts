import { NestFactory } from '@nestjs/core';
import { createLogger, validateConfig } from '@tagserve/config';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = validateConfig(process.env);
  const logger = createLogger(config, 'worker');
  // No HTTP server: the worker talks to Redis only. Shutdown hooks make SIGTERM close the
  // BullMQ worker, which waits for in-flight jobs before the process exits.
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger });
  app.enableShutdownHooks();
}

void bootstrap().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', context: 'worker', message: 'failed to start', error: String(err?.message ?? err), stack: err?.stack }));
  process.exit(1);
});
