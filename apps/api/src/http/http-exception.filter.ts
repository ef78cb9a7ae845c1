import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { envelope, reasonPhrase } from './response-envelope';

/**
 * Every error leaves in the tagifai envelope with a readable `error` message.
 * Only a genuine bug becomes a 500; it is logged with its stack, never leaked to the client.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { status, error, details, headers } = describe(exception);
    if (status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error({ msg: 'unhandled error', requestId: req.headers['x-request-id'], err: String(exception), stack: (exception as Error)?.stack });
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
    res.status(status).json({ ...envelope(req, status, reasonPhrase(status)), error, ...(details ? { details } : {}) });
  }
}

interface Described {
  status: number;
  error: string;
  details?: unknown;
  headers?: Record<string, string>;
}

function describe(exception: unknown): Described {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    if (typeof body === 'string') return { status, error: body };
    const { message, details, headers } = body as { message?: string | string[]; details?: unknown; headers?: Record<string, string> };
    const failedChecks = (body as { status?: unknown; error?: unknown }).status === 'error' ? (body as { error?: object }).error : undefined;
    // A failed health check (terminus): name the checks that are down.
    if (message === undefined && failedChecks) return { status, error: `health check failed: ${Object.keys(failedChecks).join(', ') || 'unknown'}`, details };
    const error = Array.isArray(message) ? message.join('; ') : (message ?? exception.message);
    return { status, error, details: details ?? (Array.isArray(message) ? message : undefined), headers };
  }
  // Errors raised by express middleware (body-parser) carry their own 4xx status.
  const err = exception as { status?: number; statusCode?: number; type?: string; message?: string };
  const status = err?.status ?? err?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, error: bodyParserMessage(err.type, err.message) };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, error: 'Internal server error' };
}

export function bodyParserMessage(type: string | undefined, message: string | undefined): string {
  switch (type) {
    case 'entity.parse.failed':
      return `Malformed JSON body: ${message ?? 'could not parse'}`;
    case 'entity.too.large':
      return 'Request body is too large';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return `Unsupported body encoding: ${message ?? ''}`.trim();
    default:
      return message ?? 'Bad request';
  }
}
