import { Logger } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { TagserveConfig } from '@tagserve/config';
import { createServer, Server } from 'node:http';

export type HttpServerTimeouts = Pick<
  TagserveConfig,
  'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS' | 'HTTP_SHUTDOWN_DRAIN_MS'
>;

/**
 * Node checks headersTimeout and requestTimeout on a timer (every 30 s by default), so a 10 s
 * timeout could fire after 40 s; checking every second keeps them within a second of their value.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/**
 * Express, on an HTTP server whose timeouts are set deliberately instead of Node's defaults
 * (60 s for headers, 300 s for a whole request), and which stops in bounded time: on close it
 * stops accepting, closes idle keep-alive connections, lets requests in flight finish for up to
 * HTTP_SHUTDOWN_DRAIN_MS and then cuts whatever is left (e.g. a client that never finishes its
 * body), so SIGTERM always ends in an exit within the container's grace period.
 */
export class TimedExpressAdapter extends ExpressAdapter {
  private readonly shutdownLogger = new Logger('HttpServer');

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

  override close(): Promise<void> {
    const server = this.getHttpServer() as Server | undefined;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const cut = setTimeout(() => {
        this.shutdownLogger.warn({ msg: 'shutdown drain over: closing the connections still open', drainMs: this.timeouts.HTTP_SHUTDOWN_DRAIN_MS });
        server.closeAllConnections();
      }, this.timeouts.HTTP_SHUTDOWN_DRAIN_MS);
      // A keep-alive connection whose request ends during the drain becomes idle: close it then too.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      server.close(() => {
        clearTimeout(cut);
        clearInterval(idle);
        resolve();
      });
      server.closeIdleConnections();
    });
  }
}
