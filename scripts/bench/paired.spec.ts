import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pairedLatency } from './paired';

/** A POST /predict server that answers after `delayMs`, counting the texts it was sent. */
function server(delayMs: number, seen: string[]): Promise<Server> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push((JSON.parse(body) as { texts: { text: string }[] }).texts[0].text);
      setTimeout(() => res.end('{}'), delayMs);
    });
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

describe('pairedLatency', () => {
  it('measures what one server adds over the reference, every text sent to each server once per cycle', async () => {
    const [seenA, seenB] = [[] as string[], [] as string[]];
    const [a, b] = [await server(0, seenA), await server(20, seenB)];
    try {
      const port = (s: Server) => (s.address() as AddressInfo).port;
      const texts = ['one', 'two', 'three'];
      const [ref, slow] = await pairedLatency(
        [
          { name: 'ref', port: port(a) },
          { name: 'slow', port: port(b) },
        ],
        texts,
        3000,
      );
      // The 20 ms delay is the oracle; timers fire late, never early.
      expect(ref.addedP50).toBe(0);
      expect(slow.addedP50).toBeGreaterThanOrEqual(19);
      expect(slow.addedP50).toBeLessThan(30);
      expect(slow.n).toBe(ref.n);
      expect(seenA).toEqual(seenB);
      expect(seenA.slice(0, 4)).toEqual(['one', 'two', 'three', 'one']);
    } finally {
      a.close();
      b.close();
    }
  }, 15_000);
});
