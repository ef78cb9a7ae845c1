/**
 * The load generator's side of the bench: one keep-alive HTTP/1.1 connection that writes
 * pre-encoded requests and reads only as much of each answer as it takes to find its status and its
 * end (Content-Length, or chunked). The bench's load generator shares the 2 cores with what it
 * measures: with node:http's client (an Agent, a ClientRequest and an IncomingMessage per request)
 * it used 7-10 % of a core at 2 workers and 11-12 % against the bare server at 64 clients, CPU the
 * stack then did not have.
 */
import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** The bytes of `POST path` with a JSON body, written once and sent as often as needed. */
export function encodePost(path: string, body: string): Buffer {
  const payload = Buffer.from(body);
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n` + `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

interface Pending {
  resolve: (status: number) => void;
  reject: (err: Error) => void;
}

/**
 * One request at a time (as a closed-loop client sends them). A connection the server closes is
 * opened again by the next request; the request it was carrying is rejected.
 */
export class KeepAliveConnection {
  private socket?: Socket;
  private received?: Buffer;
  private pending?: Pending;

  constructor(private readonly port: number) {}

  /** Sends `request` (from encodePost) and resolves with the answer's status once all of it is read. */
  send(request: Buffer): Promise<number> {
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.open().write(request);
    });
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  private open(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err?: Error) => {
      if (this.socket !== socket) return; // an old connection, already given up
      this.socket = undefined;
      this.received = undefined;
      this.settle(undefined, err ?? new Error('the server closed the connection before answering'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    this.socket = socket;
    this.received = undefined;
    return socket;
  }

  private onData(chunk: Buffer): void {
    const data = this.received ? Buffer.concat([this.received, chunk]) : chunk;
    let end: ReturnType<typeof answerEnd>;
    try {
      end = answerEnd(data);
    } catch (err) {
      return this.abandon(err as Error);
    }
    if (end === undefined) {
      this.received = data;
      return;
    }
    // Nothing was asked for: a server that answers twice is broken, and the bench should say so.
    if (end.length < data.length) return this.abandon(new Error('the server sent more than one answer to one request'));
    this.received = undefined;
    this.settle(end.status);
  }

  /** Rejects the request in flight and drops the connection: what it holds can no longer be read. */
  private abandon(err: Error): void {
    this.received = undefined;
    this.settle(undefined, err);
    this.close();
  }

  private settle(status: number | undefined, err?: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    if (status !== undefined) pending.resolve(status);
    else pending.reject(err ?? new Error('no answer'));
  }
}

/** Where the first complete answer in `data` ends, and its status; undefined while it is incomplete. */
export function answerEnd(data: Buffer): { status: number; length: number } | undefined {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const head = data.toString('latin1', 0, headEnd);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  if (!status) throw new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 40))}`);
  const bodyStart = headEnd + HEAD_END.length;
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    const end = bodyStart + Number(length);
    return data.length >= end ? { status, length: end } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    const end = chunkedEnd(data, bodyStart);
    return end === undefined ? undefined : { status, length: end };
  }
  // 1xx, 204 and 304 have no body; any other answer without a length ends when the server closes.
  if (status < 200 || status === 204 || status === 304) return { status, length: bodyStart };
  throw new Error(`answer ${status} has neither Content-Length nor chunked encoding`);
}

/** The end of a chunked body starting at `at` (after the last chunk and the trailer), if all there. */
function chunkedEnd(data: Buffer, at: number): number | undefined {
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size');
    at = lineEnd + CRLF.length;
    if (size === 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        const fieldEnd = data.indexOf(CRLF, at);
        if (fieldEnd < 0) return undefined;
        if (fieldEnd === at) return at + CRLF.length;
        at = fieldEnd + CRLF.length;
      }
    }
    at += size + CRLF.length;
    if (at > data.length) return undefined;
  }
}
