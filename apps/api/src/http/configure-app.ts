import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { TagserveConfig } from '@tagserve/config';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { bulkJsonPost, isBulkCsvPost } from '../jobs/bulk-bodies';
import { httpMetrics } from '../metrics/http-metrics.middleware';
import { MetricsService } from '../metrics/metrics.service';
import { HttpExceptionFilter } from './http-exception.filter';
import { TimedExpressAdapter } from './http-server.adapter';
import { jsonBody, parseByteSize } from './json-body';
import { buildOpenApiDocument } from './openapi';
import { requestId } from './request-id';

/**
 * Everything the HTTP edge needs, shared by main.ts and the tests so both run the same app.
 * The app must be created with `bodyParser: false`: jsonBody reads and parses bodies, and
 * answers every refusal (400/408/413/415) at once in our envelope. The HTTP metrics come first,
 * so those answers are counted too.
 */
export function configureApp(
  app: NestExpressApplication,
  config: Pick<TagserveConfig, 'BODY_LIMIT' | 'HTTP_BODY_TIMEOUT_MS' | 'MAX_TEXTS' | 'MAX_TEXT_LENGTH' | 'API_KEYS' | 'API_KEYS_FILE' | 'JOBS_BODY_LIMIT'>,
): void {
  // Exit 0 after a graceful SIGTERM instead of re-raising the signal.
  app.enableShutdownHooks([], { useProcessExit: true });
  // Answers are never the same twice (timestamps): hashing them for an ETag is wasted CPU.
  app.set('etag', false);
  app.use(httpMetrics(app.get(MetricsService)));
  const adapter = app.getHttpAdapter();
  if (adapter instanceof TimedExpressAdapter) app.use(adapter.trackRequests); // so a shutdown can answer them
  app.use(helmet({ contentSecurityPolicy: false })); // CSP off: Swagger UI at /docs uses inline scripts
  app.use(requestId);
  const predictBody = jsonBody({ limitBytes: parseByteSize(config.BODY_LIMIT), timeoutMs: config.HTTP_BODY_TIMEOUT_MS });
  // POST /jobs takes up to JOBS_MAX_TEXTS texts: JOBS_BODY_LIMIT (tens of MB) where /predict keeps BODY_LIMIT.
  const bulkBody = jsonBody({ limitBytes: parseByteSize(config.JOBS_BODY_LIMIT), timeoutMs: config.HTTP_BODY_TIMEOUT_MS });
  app.use((req: Request, res: Response, next: NextFunction) => {
    // A bulk CSV body is read by its route as a stream, with its limits enforced while reading.
    if (isBulkCsvPost(req)) return next();
    return (bulkJsonPost(req) ? bulkBody : predictBody)(req, res, next);
  });
  app.useGlobalFilters(new HttpExceptionFilter());
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}
