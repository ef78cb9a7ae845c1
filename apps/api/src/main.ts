import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger, validateConfig } from '@tagserve/config';
import { AppModule } from './app.module';
import { configureApp } from './http/configure-app';
import { TimedExpressAdapter } from './http/http-server.adapter';

/** After the HTTP drain, what else shutdown does (closing Redis connections) gets this long before the process exits anyway. */
const SHUTDOWN_BACKSTOP_EXTRA_MS = 3000;

async function bootstrap(): Promise<void> {
  const config = validateConfig(process.env);
  const logger = createLogger(config, 'api');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, new TimedExpressAdapter(config), { bodyParser: false, logger, abortOnError: false });
  configureApp(app, config);
  // A graceful stop can still wait on Redis (closing the queue while it is down): exit regardless
  // within the drain plus a margin, which stays inside the container's stop grace period (15 s).
  process.once('SIGTERM', () => {
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.HTTP_SHUTDOWN_DRAIN_MS + SHUTDOWN_BACKSTOP_EXTRA_MS).unref();
  });
  await app.listen(config.PORT, config.HOST);
  logger.log(`api listening on ${config.HOST}:${config.PORT}`);
}

void bootstrap().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', context: 'api', message: 'failed to start', error: String(err?.stack ?? err) }));
  process.exit(1);
});
