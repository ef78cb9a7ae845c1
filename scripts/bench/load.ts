/**
 * Closed-loop HTTP load: `clients` keep-alive connections, each sending POST /predict again as
 * soon as its answer is in, cycling the given texts; warm-up first, then a measured window.
 */
import { percentile } from '../../test/support/http';
import { cpuPercent, snapshot } from './proc-stats';
import { encodePost, KeepAliveConnection } from './keep-alive-connection';

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  n: number;
}

export function latencyOf(ms: number[]): Latency {
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), n: ms.length };
}

export interface LoadOptions {
  port: number;
  texts: string[];
  clients: number;
  /** Texts in each request (1 = the gateway's worst case: one HTTP request per text). */
  textsPerRequest: number;
  warmupMs: number;
  durationMs: number;
  /** Processes whose CPU is reported, by name. */
  pids: Record<string, number>;
  /** Worker metrics ports, for the mean batch size. */
  metricsPorts?: number[];
}

export interface LoadResult {
  clients: number;
  textsPerRequest: number;
  textsPerSec: number;
  errors: number;
  latency: Latency;
  meanBatch: number;
  cpu: Record<string, number>;
}

/** Sum and count of the worker's batch-size histogram. */
async function batchSizes(metricsPort: number): Promise<{ sum: number; count: number }> {
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const sum = Number(/^tagserve_batch_size_sum (\S+)/m.exec(body)?.[1] ?? NaN);
  const count = Number(/^tagserve_batch_size_count (\S+)/m.exec(body)?.[1] ?? NaN);
  return { sum, count };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const requests = o.texts.map((_, i) =>
    encodePost('/predict', JSON.stringify({ texts: Array.from({ length: o.textsPerRequest }, (_, k) => ({ text: o.texts[(i + k * 7) % o.texts.length] })) })),
  );
  let measuring = false;
  let stopping = false;
  let done = 0;
  let errors = 0;
  const latencies: number[] = [];
  let next = 0;
  const connections: KeepAliveConnection[] = [];
  const client = async () => {
    const connection = new KeepAliveConnection(o.port);
    connections.push(connection);
    while (!stopping) {
      const request = requests[next++ % requests.length];
      const t0 = performance.now();
      const status = await connection.send(request).catch(() => -1);
      if (!measuring) continue;
      if (status === 200) {
        done += o.textsPerRequest;
        latencies.push(performance.now() - t0);
      } else errors++;
    }
  };
  const running = Array.from({ length: o.clients }, client);
  await sleep(o.warmupMs);
  const ports = o.metricsPorts ?? [];
  const batchBefore = await Promise.all(ports.map(batchSizes));
  const cpuBefore = snapshot(o.pids);
  measuring = true;
  const started = performance.now();
  await sleep(o.durationMs);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = snapshot(o.pids);
  const batchAfter = await Promise.all(ports.map(batchSizes));
  stopping = true;
  await Promise.all(running);
  for (const connection of connections) connection.close();
  const batchSum = batchAfter.reduce((a, b, i) => a + b.sum - batchBefore[i].sum, 0);
  const batchCount = batchAfter.reduce((a, b, i) => a + b.count - batchBefore[i].count, 0);
  return {
    clients: o.clients,
    textsPerRequest: o.textsPerRequest,
    textsPerSec: done / seconds,
    errors,
    latency: latencyOf(latencies),
    meanBatch: batchCount > 0 ? batchSum / batchCount : NaN,
    cpu: cpuPercent(cpuBefore, cpuAfter, seconds),
  };
}
