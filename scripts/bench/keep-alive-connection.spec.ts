import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { answerEnd, encodePost, KeepAliveConnection } from './keep-alive-connection';

const listen = <S extends Server | TcpServer>(s: S): Promise<S> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
const portOf = (s: Server | TcpServer) => (s.address() as AddressInfo).port;
const closeServer = (s: Server | TcpServer) => new Promise((resolve) => s.close(resolve));

/** Node's own HTTP server is the oracle for what a request looks like and how answers are framed. */
async function httpServer(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<Server> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  return listen(s);
}

describe('KeepAliveConnection', () => {
  it('sends POST requests Node parses, on one connection, and reads Content-Length and chunked answers to their end', async () => {
    const seen: { method?: string; url?: string; type?: string; body: string; remotePort?: number }[] = [];
    const server = await httpServer((req, body, res) => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body, remotePort: req.socket.remotePort });
      if (body.includes('chunked')) {
        // Three writes without a length: Node frames them as chunks.
        res.writeHead(201, { 'content-type': 'application/json' });
        res.write('{"a":');
        res.write('"' + 'x'.repeat(5000) + '"');
        setTimeout(() => res.end('}'), 20);
      } else if (body.includes('empty')) res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: JSON.parse(body) }));
    });
    const connection = new KeepAliveConnection(portOf(server));
    try {
      const text = { texts: [{ text: 'Transfer learning with transformers — “quoted” ünïcode' }] };
      expect(await connection.send(encodePost('/predict', JSON.stringify(text)))).toBe(200);
      expect(await connection.send(encodePost('/predict', '{"chunked":true}'))).toBe(201);
      expect(await connection.send(encodePost('/predict', '{"empty":true}'))).toBe(204);
      expect(await connection.send(encodePost('/predict', JSON.stringify(text)))).toBe(200);
      expect(seen.map((s) => [s.method, s.url, s.type])).toEqual(Array(4).fill(['POST', '/predict', 'application/json']));
      expect(JSON.parse(seen[0].body)).toEqual(text);
      // Every request came over the same client socket: the answers were read exactly to their end.
      expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
    } finally {
      connection.close();
      server.closeAllConnections();
      await closeServer(server);
    }
  });

  it('reads an answer that arrives a byte at a time', async () => {
    const answer = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world');
    const server = await listen(
      createTcpServer((socket: Socket) =>
        socket.once('data', async () => {
          for (const byte of answer) {
            socket.write(Buffer.from([byte]));
            await new Promise((r) => setImmediate(r));
          }
        }),
      ),
    );
    const connection = new KeepAliveConnection(portOf(server));
    try {
      expect(await connection.send(encodePost('/', '{}'))).toBe(200);
    } finally {
      connection.close();
      await closeServer(server);
    }
  });

  it('rejects the request a closed connection carried, and the next request opens a new connection', async () => {
    let connections = 0;
    const server = await listen(
      createTcpServer((socket: Socket) => {
        const n = ++connections;
        socket.once('data', () => {
          if (n === 1)
            socket.destroy(); // closes without answering
          else socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
        });
      }),
    );
    const connection = new KeepAliveConnection(portOf(server));
    try {
      await expect(connection.send(encodePost('/', '{}'))).rejects.toThrow('closed the connection');
      expect(await connection.send(encodePost('/', '{}'))).toBe(200);
      expect(connections).toBe(2);
    } finally {
      connection.close();
      await closeServer(server);
    }
  });
});

describe('answerEnd', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');

  it('finds the end by Content-Length, and waits while the body is short', () => {
    expect(answerEnd(b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'))).toEqual({ status: 200, length: 40 });
    expect(answerEnd(b('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}'))).toBeUndefined();
    expect(answerEnd(b('HTTP/1.1 200 OK\r\nContent-Len'))).toBeUndefined();
  });

  it('finds the end of a chunked body after its trailer, and waits while a chunk is cut', () => {
    const full = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n';
    expect(answerEnd(b(full))).toEqual({ status: 200, length: full.length });
    for (const cut of [full.length - 1, full.length - 5, full.indexOf('0123'), full.indexOf('a\r\n') + 1])
      expect(answerEnd(b(full.slice(0, cut)))).toBeUndefined();
  });

  it('refuses what it cannot frame instead of waiting for ever', () => {
    expect(() => answerEnd(b('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow('not an HTTP answer');
    expect(() => answerEnd(b('HTTP/1.1 200 OK\r\n\r\nbody until close'))).toThrow('neither Content-Length nor chunked');
  });
});
