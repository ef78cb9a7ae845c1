import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';
import { sendError } from './response-envelope';

export interface JsonBodyOptions {
  /** Largest body, counted after decompression. */
  limitBytes: number;
  /** The whole body must arrive within this; a stalled or trickling body is answered 408. */
  timeoutMs: number;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/** '512kb' → 524288 (the BODY_LIMIT format; 1 kb = 1024 bytes, as body-parser counted it). */
export function parseByteSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size.trim());
  if (!match) throw new Error(`not a byte size: ${size}`);
  return Number(match[1]) * UNITS[match[2].toLowerCase()];
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The body as a stream of its bytes: as sent, or decompressed for Content-Encoding gzip, deflate
 * or br (JSON bodies here, CSV bodies in the bulk routes). A string names any other encoding, which
 * the caller refuses with 415.
 */
export function decodedBody(req: Request): Readable | string {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return req;
  const decoder = DECODERS[encoding];
  return decoder ? (req.pipe(decoder()) as unknown as Readable) : `Unsupported content encoding "${clip(encoding)}"`;
}

const CHARSETS = new Set(['utf-8', 'utf8', 'utf-16', 'utf-16le', 'utf-16be']);

/**
 * Reads and parses JSON bodies of POST requests. Replaces body-parser, which on any error first
 * reads the whole declared body before answering: a request announcing 600 MB and sending a few
 * bytes held its connection until Node's 300 s request timeout. Here every refusal is answered at
 * once, with `Connection: close` so nothing more is read:
 * - 413 when Content-Length (or the bytes received, decompressed) exceed the limit;
 * - 415 for a non-JSON Content-Type, charset or Content-Encoding;
 * - 408 when the body has not fully arrived within `timeoutMs`;
 * - 400 for malformed JSON, a top level that is not an object or array, or nesting past MAX_JSON_DEPTH.
 * JSON.parse makes keys such as "__proto__" own properties, so validation sees them as unknown fields.
 */
export function jsonBody({ limitBytes, timeoutMs }: JsonBodyOptions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === 0)) return next(); // no body
    // Only POST /predict takes a body. Elsewhere it is not read, and the connection is closed after
    // the answer rather than kept to read (or wait for) the rest of it.
    if (req.method !== 'POST') {
      res.setHeader('Connection', 'close');
      return next();
    }
    if (length !== undefined && length > limitBytes) {
      return sendError(req, res, HttpStatus.PAYLOAD_TOO_LARGE, `Request body is too large (Content-Length ${length} bytes, limit ${limitBytes})`, {
        close: true,
      });
    }
    if (!req.is('application/json')) {
      return sendError(
        req,
        res,
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        `Content-Type must be application/json, got ${clip(req.headers['content-type'] ?? 'none')}`,
        { close: true },
      );
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
    if (!CHARSETS.has(charset)) return sendError(req, res, HttpStatus.UNSUPPORTED_MEDIA_TYPE, `Unsupported charset "${clip(charset)}"`, { close: true });
    const stream = decodedBody(req);
    if (typeof stream === 'string') return sendError(req, res, HttpStatus.UNSUPPORTED_MEDIA_TYPE, stream, { close: true });
    readBody(req, res, stream, { limitBytes, timeoutMs }, (text) => {
      const problem = parseJson(text, charset);
      if (typeof problem === 'string') return sendError(req, res, HttpStatus.BAD_REQUEST, problem);
      req.body = problem.value;
      next();
    });
  };
}

function readBody(req: Request, res: Response, stream: Readable, { limitBytes, timeoutMs }: JsonBodyOptions, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const stop = (status?: number, error?: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    stream.removeAllListeners('data');
    if (stream !== req) {
      req.unpipe();
      stream.destroy();
    }
    req.pause();
    if (status) sendError(req, res, status, error!, { close: true });
  };
  const timer = setTimeout(() => stop(HttpStatus.REQUEST_TIMEOUT, `Request body not received within ${timeoutMs} ms`), timeoutMs);
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limitBytes) return stop(HttpStatus.PAYLOAD_TOO_LARGE, `Request body is too large (over ${limitBytes} bytes)`);
    chunks.push(chunk);
  });
  stream.on('error', (err: Error) => stop(HttpStatus.BAD_REQUEST, undecodableBody(err.message)));
  stream.on('end', () => {
    if (finished) return;
    stop();
    done(Buffer.concat(chunks, received));
  });
  // The client went away mid-body: nobody to answer.
  req.on('close', () => {
    if (!req.complete) stop();
  });
}

function parseJson(body: Buffer, charset: string): { value: unknown } | string {
  const text = new TextDecoder(charset).decode(body); // drops a leading BOM
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return { value: undefined };
  if (first !== '{' && first !== '[') return 'Malformed JSON body: the body must be a JSON object like {"texts": [{"text": "..."}]}';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `Malformed JSON body: ${clip((err as Error).message)}`;
  }
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) return `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`;
  return { value };
}

/** The 400 message for a body whose Content-Encoding does not decode (JSON and CSV bodies alike). */
export function undecodableBody(reason = ''): string {
  return `Malformed body: could not decode it (${clip(reason)})`;
}

/** Client-supplied text echoed in an error stays short. */
export function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
