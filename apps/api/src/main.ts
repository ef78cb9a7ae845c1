import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger, validateConfig } from '@tagserve/config';
import { AppModule } from './app.module';
import { configureApp } from './http/configure-app';

async function bootstrap(): Promise<void> {
  const config = validateConfig(process.env);
  const logger = createLogger(config, 'api');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger, abortOnError: false });
  configureApp(app, config);
  await app.listen(config.PORT, config.HOST);
  logger.log(`api listening on ${config.HOST}:${config.PORT}`);
}

void bootstrap().catch((err) => {
  console.error(JSON.stringify({ level: 'fatal', context: 'api', message: 'failed to start', error: String(err?.stack ?? err) }));
  process.exit(1);
});
