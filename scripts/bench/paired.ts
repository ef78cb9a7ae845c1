/**
 * Added latency at one client, measured in pairs: one client sends the same text to each server in
 * turn (a new random order every cycle) and each server's latency is compared with the first
 * server's in the same cycle. Sequential 10 s phases of one server each drifted by up to 2 ms
 * between phases on the 2-core machine (the same stack measured +4.0 to +6.8 ms over the bare server
 * in three runs); in pairs the machine's drift hits both sides of a difference alike.
 */
import { Agent, request } from 'node:http';
import { percentile } from '../../test/support/http';

export interface PairedTarget {
  name: string;
  port: number;
}

export interface PairedResult {
  name: string;
  /** Cycles measured (after the warm-up cycles). */
  n: number;
  p50: number;
  /** Median over cycles of (this server's latency - the first server's), ms. */
  addedP50: number;
}

/** Cycles discarded at the start: the first requests of a connection and a cold cache. */
const WARMUP_CYCLES = 50;

function post(agent: Agent, port: number, body: string): Promise<void> {
  return new Promise((ok, fail) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request({ agent, host: '127.0.0.1', port, path: '/predict', method: 'POST', headers }, (res) => {
      res.on('data', () => undefined);
      res.on('error', fail);
      res.on('end', () => (res.statusCode === 200 ? ok() : fail(new Error(`port ${port}: HTTP ${res.statusCode}`))));
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** `targets[0]` is the reference (the bare server); every text goes to every target once per cycle. */
export async function pairedLatency(targets: PairedTarget[], texts: string[], durationMs: number): Promise<PairedResult[]> {
  const agents = targets.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const latencies: number[][] = targets.map(() => []);
  try {
    const end = performance.now() + durationMs;
    for (let cycle = 0; performance.now() < end; cycle++) {
      const body = JSON.stringify({ texts: [{ text: texts[cycle % texts.length] }] });
      const order = targets.map((_, i) => i).sort(() => Math.random() - 0.5);
      for (const i of order) {
        const t0 = performance.now();
        await post(agents[i], targets[i].port, body);
        latencies[i].push(performance.now() - t0);
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  const measured = latencies.map((l) => l.slice(WARMUP_CYCLES));
  return targets.map((t, i) => ({
    name: t.name,
    n: measured[i].length,
    p50: percentile(measured[i], 50),
    addedP50: percentile(
      measured[i].map((ms, k) => ms - measured[0][k]),
      50,
    ),
  }));
}
