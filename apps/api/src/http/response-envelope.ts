import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';

/** The response wrapper of the original tagifai API: message, status-code, method, timestamp, url, data. */
export interface Envelope<T = unknown> {
  message: string;
  method: string;
  'status-code': number;
  timestamp: string;
  url: string;
  data?: T;
}

export function envelope<T>(req: Request, status: number, message: string, data?: T): Envelope<T> {
  return {
    message,
    method: req.method,
    'status-code': status,
    timestamp: new Date().toISOString(),
    url: req.originalUrl,
    ...(data === undefined ? {} : { data }),
  };
}

/** HTTP reason phrase, e.g. 404 -> "Not Found". */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** An error answered by the HTTP edge itself (before Nest's filter can see it), in the same envelope. */
export function sendError(req: Request, res: Response, status: number, error: string, options: { close?: boolean } = {}): void {
  if (res.headersSent) return;
  // The body was not read: keeping the connection would mean reading (or waiting for) the rest of it first.
  if (options.close) res.setHeader('Connection', 'close');
  res.status(status).json({ ...envelope(req, status, reasonPhrase(status)), error });
}
