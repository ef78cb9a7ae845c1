/** The bench's stack phases: the built api + BullMQ + workers (test/support's Stack) under load. */
import { Stack } from '../../test/support/stack';
import { freePort } from '../../test/support/redis-server';
import type { ServedModel } from './artifacts';
import { runLoad, type LoadResult } from './load';
import { statusKb } from './proc-stats';
import { fmt } from './report';

/** Worker knobs may be overridden from the caller's environment (to compare settings). */
export function passThrough(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['WORKER_CONCURRENCY', 'BATCH_MAX_SIZE', 'BATCH_MAX_WAIT_MS', 'BATCH_MAX_TOKENS', 'PREDICTION_CACHE_SIZE'])
    if (process.env[k]) out[k] = process.env[k]!;
  if (process.env.BENCH_CHILD_NODE_OPTIONS) out.NODE_OPTIONS = process.env.BENCH_CHILD_NODE_OPTIONS;
  return out;
}

/** What every stack of the bench runs with: production logging, one ONNX thread, no rate limit in the way. */
export const BENCH_STACK_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  THROTTLE_LIMIT: String(100_000_000), // one client IP sending thousands of requests a second
  ONNX_INTRA_OP_THREADS: '1',
  ONNX_INTER_OP_THREADS: '1',
};

export interface StackRun {
  /** By `<workers>/<clients>/<texts per request>`. */
  loads: Map<string, LoadResult>;
  workerPeakRssKiB: number;
}

export interface StackPhases {
  model: ServedModel;
  texts: string[];
  /** Grown to each count in turn. */
  workerCounts: number[];
  /** (clients, texts per request) of the load phases at a worker count. */
  phases: (workers: number) => [number, number][];
  warmupMs: number;
  durationMs: number;
  log: (msg: string) => void;
  /** Runs after a worker count's load phases, the stack still up (e.g. the paired latency phase). */
  after?: (stack: Stack, workers: number) => Promise<void>;
}

function benchStackEnv(model: ServedModel): Record<string, string> {
  return { ...BENCH_STACK_ENV, MODEL_DVC_FILE: model.dvcFile, DVC_STORE_DIR: model.storeDir, ...passThrough() };
}

/** Starts workers (each with a metrics port, added to `metricsPorts`) up to `workers`; the processes' pids by name. */
async function growTo(stack: Stack, workers: number, metricsPorts: number[]): Promise<Record<string, number>> {
  while (stack.workers.length < workers) {
    const port = await freePort();
    await stack.startWorker({ WORKER_METRICS_PORT: String(port), LOG_LEVEL: 'log' });
    metricsPorts.push(port);
  }
  await stack.waitUntilReady();
  const pids: Record<string, number> = { api: stack.api!.child.pid!, redis: stack.redis.pid! };
  stack.workers.forEach((w, i) => (pids[`worker${i + 1}`] = w.child.pid!));
  return pids;
}

export interface BenchStack {
  stack: Stack;
  pids: Record<string, number>;
  metricsPorts: number[];
}

/** A stack serving `model` with `workers` workers, up and ready; the caller stops it. */
export async function startBenchStack(model: ServedModel, workers: number): Promise<BenchStack> {
  const stack = await Stack.create(benchStackEnv(model));
  try {
    await stack.startApi();
    const metricsPorts: number[] = [];
    return { stack, pids: await growTo(stack, workers, metricsPorts), metricsPorts };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** Starts a stack serving `model`, grows it to each worker count in turn and runs the phases; stops it. */
export async function withStack(o: StackPhases): Promise<StackRun> {
  const loads = new Map<string, LoadResult>();
  let workerPeakRssKiB = NaN;
  const stack = await Stack.create(benchStackEnv(o.model));
  try {
    await stack.startApi();
    const metricsPorts: number[] = [];
    for (const workers of o.workerCounts) {
      const pids = await growTo(stack, workers, metricsPorts);
      for (const [clients, textsPerRequest] of o.phases(workers)) {
        const r = await runLoad({
          port: stack.port,
          texts: o.texts,
          clients,
          textsPerRequest,
          warmupMs: o.warmupMs,
          durationMs: o.durationMs,
          pids,
          metricsPorts,
        });
        loads.set(`${workers}/${clients}/${textsPerRequest}`, r);
        o.log(
          `${o.model.label}, ${workers} worker(s), ${clients} clients × ${textsPerRequest}: ${fmt(r.textsPerSec)} texts/s, p50 ${fmt(r.latency.p50, 2)} ms, cpu ${JSON.stringify(r.cpu)}`,
        );
      }
      await o.after?.(stack, workers);
    }
    workerPeakRssKiB = statusKb(stack.workers[0].child.pid!, 'VmHWM');
  } finally {
    await stack.stop();
  }
  return { loads, workerPeakRssKiB };
}
