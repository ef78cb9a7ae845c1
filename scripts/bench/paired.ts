/**
 * Added latency at one client, measured in pairs: one client sends the same text to each server in
 * turn (a new random order every cycle) and each server's latency is compared with the first
 * server's in the same cycle. Sequential 10 s phases of one server each drifted by up to 2 ms
 * between phases on the 2-core machine (the same stack measured +4.0 to +6.8 ms over the bare server
 * in three runs); in pairs the machine's drift hits both sides of a difference alike.
 */
import { percentile } from '../../test/support/http';
import { encodePost, KeepAliveConnection } from './keep-alive-connection';

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

/** `targets[0]` is the reference (the bare server); every text goes to every target once per cycle. */
export async function pairedLatency(targets: PairedTarget[], texts: string[], durationMs: number): Promise<PairedResult[]> {
  const connections = targets.map((t) => new KeepAliveConnection(t.port));
  const latencies: number[][] = targets.map(() => []);
  try {
    const end = performance.now() + durationMs;
    for (let cycle = 0; performance.now() < end; cycle++) {
      const request = encodePost('/predict', JSON.stringify({ texts: [{ text: texts[cycle % texts.length] }] }));
      const order = shuffled(targets.map((_, i) => i));
      for (const i of order) {
        const t0 = performance.now();
        const status = await connections[i].send(request);
        if (status !== 200) throw new Error(`${targets[i].name} answered ${status}`);
        latencies[i].push(performance.now() - t0);
      }
    }
  } finally {
    for (const connection of connections) connection.close();
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

/** Fisher-Yates: every order equally likely, so no server is always measured right after another. */
export function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
