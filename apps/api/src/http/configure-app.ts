import { HttpStatus } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { TagserveConfig } from '@tagserve/config';
import { json, NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { bulkJsonParser, isBulkCsvPost } from '../jobs/bulk-bodies';
import { bodyParserMessage, HttpExceptionFilter } from './http-exception.filter';
import { limitJsonDepth } from './json-depth';
import { requestId } from './request-id';
import { envelope, reasonPhrase } from './response-envelope';

/**
 * Everything the HTTP edge needs, shared by main.ts and the tests so both run the same app.
 * The app must be created with `bodyParser: false`: the JSON parser is mounted here with our
 * limit and followed directly by an error handler, so malformed or oversized bodies become
 * clean 400/413 answers in our envelope instead of express's HTML error page.
 */
export function configureApp(app: NestExpressApplication, config: Pick<TagserveConfig, 'BODY_LIMIT' | 'JOBS_BODY_LIMIT'>): void {
  // Exit 0 after a graceful SIGTERM instead of re-raising the signal.
  app.enableShutdownHooks([], { useProcessExit: true });
  // Answers are never the same twice (timestamps): hashing them for an ETag is wasted CPU.
  app.set('etag', false);
  app.use(helmet({ contentSecurityPolicy: false })); // CSP off: Swagger UI at /docs uses inline scripts
  app.use(requestId);
  app.use(requireJsonBody);
  app.use(bulkJsonParser(config.JOBS_BODY_LIMIT));
  app.use(json({ limit: config.BODY_LIMIT, strict: true }));
  app.use(bodyParserErrors);
  app.use(limitJsonDepth((req, res, error) => sendError(req, res, HttpStatus.BAD_REQUEST, error)));
  app.useGlobalFilters(new HttpExceptionFilter());

  const openApi = new DocumentBuilder()
    .setTitle('tagserve')
    .setDescription('Predict the tag of ML projects from their title and description.')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi), { jsonDocumentUrl: 'docs-json' });
}

function sendError(req: Request, res: Response, status: number, error: string): void {
  res.status(status).json({ ...envelope(req, status, reasonPhrase(status)), error });
}

/** A POST with a body must be JSON: answer 415 rather than validating an unparsed body. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (req.method === 'POST' && hasBody && !req.is('application/json') && !isBulkCsvPost(req)) {
    return sendError(req, res, HttpStatus.UNSUPPORTED_MEDIA_TYPE, `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}`);
  }
  next();
}

function bodyParserErrors(err: { status?: number; type?: string; message?: string }, req: Request, res: Response, next: NextFunction): void {
  if (!err) return next();
  const status = err.status && err.status >= 400 && err.status < 500 ? err.status : HttpStatus.BAD_REQUEST;
  sendError(req, res, status, bodyParserMessage(err.type, err.message));
}
