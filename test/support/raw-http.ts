import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server sent nothing before closing (or before `timeoutMs`). */
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON body, undefined when not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  /** When the first answer was complete (or the socket closed), from the first byte written. */
  ms: number;
  /** The server closed the connection (within `timeoutMs`). */
  closed: boolean;
}

/** Bytes to write, or a pause before the next ones. */
export type RawStep = string | Buffer | { pauseMs: number };

/**
 * Writes a request over a plain TCP socket, step by step (so bodies can be slow, stall, or lie
 * about their length), and reads the first answer. Resolves after `timeoutMs` at the latest.
 */
export function rawRequest(port: number, steps: RawStep[], timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseAnswer(received), ms: performance.now() - started, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (answerComplete(received)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.once('connect', async () => {
      for (const step of steps) {
        if (settled || socket.destroyed) return;
        if (typeof step === 'object' && 'pauseMs' in step) await new Promise((r) => setTimeout(r, step.pauseMs));
        else socket.write(step);
      }
    });
  });
}

function split(raw: Buffer): { head: string; body: Buffer } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  return end < 0 ? undefined : { head: raw.subarray(0, end).toString('latin1'), body: raw.subarray(end + 4) };
}

function answerComplete(raw: Buffer): boolean {
  const parts = split(raw);
  if (!parts) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(parts.head)?.[1];
  return length !== undefined && parts.body.length >= Number(length);
}

function parseAnswer(raw: Buffer): Pick<RawAnswer, 'status' | 'headers' | 'body' | 'text'> {
  const parts = split(raw);
  if (!parts) return { status: 0, headers: {}, body: undefined, text: raw.toString() };
  const [statusLine, ...lines] = parts.head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const text = parts.body.toString();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body, text };
}

/** A request head for POST `path` (/predict unless told) with the given extra header lines. */
export function postHead(headers: Record<string, string | number>, path = '/predict'): string {
  const lines = Object.entries({ Host: 'localhost', 'Content-Type': 'application/json', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
