import { HttpStatus, Logger } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { TagserveConfig } from '@tagserve/config';
import type { NextFunction, Request, Response } from 'express';
import { createServer, Server } from 'node:http';
import { sendError } from './response-envelope';

export type HttpServerTimeouts = Pick<
  TagserveConfig,
  'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS' | 'HTTP_SHUTDOWN_DRAIN_MS'
>;

/**
 * Node checks headersTimeout and requestTimeout on a timer (every 30 s by default), so a 10 s
 * timeout could fire after 40 s; checking every second keeps them within a second of their value.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;
/** After the last answers are written, how long their connections get to close by themselves. */
const FINAL_FLUSH_MS = 500;

/**
 * Express, on an HTTP server whose timeouts are set deliberately instead of Node's defaults
 * (60 s for headers, 300 s for a whole request), and which stops in bounded time. On close it
 * stops accepting, closes idle keep-alive connections, answers 503 at once to requests whose body
 * is still arriving (a half-sent request used to keep the api up), lets requests in flight finish
 * for up to HTTP_SHUTDOWN_DRAIN_MS, then answers those still waiting 503 (their jobs stay queued)
 * and closes every connection: SIGTERM ends in an exit within the container's grace period.
 */
export class TimedExpressAdapter extends ExpressAdapter {
  private readonly shutdownLogger = new Logger('HttpServer');
  private readonly inFlight = new Map<Response, Request>();

  constructor(private readonly timeouts: HttpServerTimeouts) {
    super();
  }

  override initHttpServer(): void {
    const server = createServer(
      {
        headersTimeout: this.timeouts.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeout: this.timeouts.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveTimeout: this.timeouts.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
      },
      this.getInstance(),
    );
    this.setHttpServer(server);
  }

  /** Middleware that keeps the requests not answered yet, so a shutdown can answer them. Mount it first. */
  readonly trackRequests = (req: Request, res: Response, next: NextFunction): void => {
    this.inFlight.set(res, req);
    res.once('close', () => this.inFlight.delete(res));
    next();
  };

  override close(): Promise<void> {
    const server = this.getHttpServer() as Server | undefined;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      // A keep-alive connection whose request ends during the drain becomes idle: close it then too.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const drained = setTimeout(() => {
        const waiting = this.answerAll(HttpStatus.SERVICE_UNAVAILABLE, 'The api stopped before the answer came; a queued job still runs: retry');
        this.shutdownLogger.warn({ msg: 'shutdown drain over: answered the requests still waiting', waiting, drainMs: this.timeouts.HTTP_SHUTDOWN_DRAIN_MS });
        setTimeout(() => server.closeAllConnections(), FINAL_FLUSH_MS).unref();
      }, this.timeouts.HTTP_SHUTDOWN_DRAIN_MS);
      server.close(() => {
        clearTimeout(drained);
        clearInterval(idle);
        resolve();
      });
      server.closeIdleConnections();
      this.answerAll(HttpStatus.SERVICE_UNAVAILABLE, 'The api is stopping: retry', (req) => !req.complete);
    });
  }

  /** Answers (and closes) the requests in flight that `which` selects; returns how many. */
  private answerAll(status: number, error: string, which: (req: Request) => boolean = () => true): number {
    let answered = 0;
    for (const [res, req] of this.inFlight) {
      if (res.headersSent || !which(req)) continue;
      res.setHeader('Retry-After', '1');
      sendError(req, res, status, error, { close: true });
      answered++;
    }
    return answered;
  }
}
