/**
 * Side-by-side benchmark: the model in-process vs the same model behind HTTP -> BullMQ -> worker.
 *
 *   npm run build && npm run bench -- [--duration 10] [--warmup 2] [--json bench.json]
 *
 * In one run on one machine it measures
 *   (a) raw in-process inference throughput (texts/s) at batch 1, 8, 16, 32, one ONNX intra-op thread;
 *   (b) end-to-end throughput through the built api + worker at 1, 8, 64 concurrent clients
 *       (one text per request, keep-alive HTTP, loopback);
 *   (c) p50/p95/p99 latency at 1 client, raw batch 1 vs end-to-end;
 *   (d) 1 worker vs 2 workers, each held to ONNX_INTRA_OP_THREADS=1, with one text per request and
 *       again with 16 texts per request (less gateway work per text), next to the machine's own
 *       ceiling: the model alone in 2 processes at once vs 1;
 * plus the CPU used by every process in each phase (from /proc/<pid>/stat) and the worker RSS.
 * It starts its own redis-server on a free port and the built api/worker, and kills them at the end.
 */
import { materialize } from '@tagserve/dvc-store';
import { TagClassifier } from '@tagserve/model';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppProcess, waitForStatus } from '../test/support/app-process';
import { percentile } from '../test/support/http';
import { freePort } from '../test/support/redis-server';

// ---------------------------------------------------------------- options

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const DURATION_MS = Number(arg('duration', '10')) * 1000;
const WARMUP_MS = Number(arg('warmup', '2')) * 1000;
const RAW_DURATION_MS = Number(arg('raw-duration', String(DURATION_MS / 2000))) * 1000;
const JSON_OUT = arg('json');
const RAW_BATCHES = [1, 8, 16, 32]; // 16: the default BATCH_MAX_SIZE
const CLIENTS = [1, 8, 64];
/**
 * Texts per request in the extra 64-client phases. One text per request is the gateway's worst
 * case (a whole HTTP request per text); with 16 the gateway's share of the CPU shrinks, which
 * shows what the worker tier does on its own.
 */
const BIG_REQUEST = 16;
const ROOT = resolve(__dirname, '..');

/** Realistic inputs (title + description of ML projects) of varied length, cycled by every phase. */
const TEXTS = [
  'Transfer learning with transformers for text classification. Fine-tuning BERT on a small labelled dataset.',
  'YOLOv8 real-time object detection on edge devices with TensorRT.',
  'Diffusion models from scratch: a minimal DDPM implementation in PyTorch with annotated code and training tips.',
  'MLOps pipeline with Airflow, MLflow and Kubernetes for continuous training and deployment of models.',
  'Graph neural networks for molecule property prediction.',
  'Sentiment analysis of tweets using LSTM and GloVe embeddings.',
  'Self-supervised contrastive learning (SimCLR) for image representations without labels.',
  'A practical guide to monitoring data drift in production machine learning systems.',
  'Question answering over PDFs with retrieval-augmented generation and a vector database.',
  'Semantic segmentation of satellite imagery with U-Net.',
  'Reinforcement learning agent that plays Atari games with deep Q-networks and prioritized replay.',
  'Named entity recognition for biomedical text with spaCy.',
  'Feature stores explained: serving consistent features for training and online inference.',
  'Image captioning with a CNN encoder and an attention-based transformer decoder.',
  'Speech recognition with wav2vec 2.0 fine-tuned on a low-resource language.',
  'Pose estimation in videos using MediaPipe.',
];

// ---------------------------------------------------------------- stats and /proc

interface Latency {
  p50: number;
  p95: number;
  p99: number;
  n: number;
}
function latencyOf(ms: number[]): Latency {
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), n: ms.length };
}

const CLK_TCK = 100; // USER_HZ on Linux
/** CPU seconds (user+system, all threads) of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}
function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
/** Whole-machine busy CPU seconds, to see what other tenants used during a phase. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / CLK_TCK;
}

type CpuSnapshot = Record<string, number>;
function snapshot(pids: Record<string, number>): CpuSnapshot {
  const snap: CpuSnapshot = { machine: machineBusySeconds() };
  for (const [name, pid] of Object.entries(pids)) snap[name] = cpuSeconds(pid);
  return snap;
}
/** CPU use in % of one core between two snapshots. */
function cpuPercent(before: CpuSnapshot, after: CpuSnapshot, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) out[name] = Math.round(((after[name] - before[name]) / seconds) * 100);
  return out;
}

// ---------------------------------------------------------------- raw in-process

interface RawResult {
  batch: number;
  textsPerSec: number;
  /** CPU ms (all threads of this process) per text. */
  cpuMsPerText: number;
  latency?: Latency;
}

async function benchRaw(): Promise<{ results: RawResult[]; benchCpu: number; parallel: RawParallel }> {
  const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-bench-model-'));
  try {
    await materialize({ dvcFile: join(ROOT, 'stores/model.dvc'), storeDir: join(ROOT, 'stores/blob'), targetDir: modelDir });
    const classifier = await TagClassifier.load(modelDir, { intraOpThreads: 1, interOpThreads: 1 });
    const results: RawResult[] = [];
    const cpuBefore = process.cpuUsage();
    let wall = 0;
    for (const batch of RAW_BATCHES) {
      const run = await runRaw(classifier, batch, Math.min(WARMUP_MS, 1000));
      wall += run.seconds;
      const textsPerSec = run.texts / run.seconds;
      results.push({ batch, textsPerSec, cpuMsPerText: run.cpuMs / run.texts, latency: batch === 1 ? latencyOf(run.latencies) : undefined });
      log(`raw batch ${batch}: ${textsPerSec.toFixed(0)} texts/s`);
    }
    const used = process.cpuUsage(cpuBefore);
    await classifier.dispose();
    const parallel = await benchRawParallel(modelDir, PARALLEL_BATCH);
    return { results, benchCpu: Math.round(((used.user + used.system) / 1e6 / wall) * 100), parallel };
  } finally {
    rmSync(modelDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- raw, two processes at once

/** Batch size of the parallel raw run (the default BATCH_MAX_SIZE). */
const PARALLEL_BATCH = 16;

interface RawParallel {
  batch: number;
  /** texts/s of the model alone in one process, then summed over two processes running at once. */
  one: number;
  two: number;
}

/**
 * The machine's own ceiling for two workers: the model alone in one process, then in two at
 * once (each one ONNX thread), with nothing else running. Two workers end to end cannot beat it.
 */
async function benchRawParallel(modelDir: string, batch: number): Promise<RawParallel> {
  const run = async (processes: number): Promise<number> => {
    const children = Array.from({ length: processes }, () =>
      spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', __filename, '--raw-child', modelDir, String(batch)], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    try {
      const lines = children.map((child) => createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
      const nextLine = async (i: number) => {
        const { value, done } = await lines[i].next();
        if (done) throw new Error(`raw child ${i} ended early`);
        return value as string;
      };
      await Promise.all(children.map((_, i) => nextLine(i))); // "ready": model loaded and warm
      for (const child of children) child.stdin!.write('go\n');
      const rates = await Promise.all(children.map(async (_, i) => (JSON.parse(await nextLine(i)) as { textsPerSec: number }).textsPerSec));
      return rates.reduce((a, b) => a + b, 0);
    } finally {
      for (const child of children) child.kill();
    }
  };
  const one = await run(1);
  const two = await run(2);
  log(`raw batch ${batch}, 1 process: ${one.toFixed(0)} texts/s; 2 processes at once: ${two.toFixed(0)} texts/s (${(two / one).toFixed(2)}x)`);
  return { batch, one, two };
}

/** `--raw-child <modelDir> <batch>`: loads the model, prints "ready", runs RAW_DURATION_MS after "go" on stdin, prints its texts/s. */
async function rawChild(modelDir: string, batch: number): Promise<void> {
  const classifier = await TagClassifier.load(modelDir, { intraOpThreads: 1, interOpThreads: 1 });
  const run = await runRaw(classifier, batch, 1000, async () => {
    process.stdout.write('ready\n');
    await new Promise((go) => process.stdin.once('data', go));
  });
  process.stdout.write(JSON.stringify({ textsPerSec: run.texts / run.seconds }) + '\n');
}

/**
 * The classifier alone on batches of `batch` texts (cycling TEXTS): `warmupMs` of warm-up, then
 * `beforeMeasuring`, then RAW_DURATION_MS measured (texts, seconds, per-call latencies, CPU ms).
 */
async function runRaw(
  classifier: TagClassifier,
  batch: number,
  warmupMs: number,
  beforeMeasuring: () => Promise<void> = async () => undefined,
): Promise<{ texts: number; seconds: number; latencies: number[]; cpuMs: number }> {
  let next = 0;
  const take = () => Array.from({ length: batch }, () => TEXTS[next++ % TEXTS.length]);
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await classifier.predict(take());
  await beforeMeasuring();
  const latencies: number[] = [];
  let texts = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < RAW_DURATION_MS) {
    const t0 = performance.now();
    await classifier.predict(take());
    latencies.push(performance.now() - t0);
    texts += batch;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { texts, seconds, latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// ---------------------------------------------------------------- stack

class Redis {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}
  static async start(): Promise<Redis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tagserve-bench-redis-'));
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const redis = new Redis(child, port, dir);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error('redis-server exited (is it installed?)');
      const up = await new Promise<boolean>((ok) => {
        const socket = require('node:net').connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.end(), ok(true)));
        socket.once('error', () => ok(false));
      });
      if (up) return redis;
      await sleep(50);
    }
    throw new Error('redis-server did not start');
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Worker {
  proc: AppProcess;
  metricsPort: number;
  modelDir: string;
}

class Stack {
  workers: Worker[] = [];
  api?: AppProcess;
  private constructor(
    readonly redis: Redis,
    readonly port: number,
  ) {}

  static async start(): Promise<Stack> {
    const redis = await Redis.start();
    return new Stack(redis, await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(this.redis.port),
      HOST: '127.0.0.1',
      PORT: String(this.port),
      // The bench is one client IP sending thousands of requests a second.
      THROTTLE_LIMIT: String(100_000_000),
      ONNX_INTRA_OP_THREADS: '1',
      ONNX_INTER_OP_THREADS: '1',
      ...passThrough(),
      ...extra,
    };
  }

  async startApi(): Promise<void> {
    this.api = AppProcess.start('api', this.env({}));
    await waitForStatus(`${this.url}/health/live`, 200);
  }

  async startWorker(): Promise<Worker> {
    const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-bench-worker-'));
    const metricsPort = await freePort();
    const proc = AppProcess.start('worker', this.env({ MODEL_DIR: modelDir, WORKER_METRICS_PORT: String(metricsPort), LOG_LEVEL: 'log' }));
    const worker = { proc, metricsPort, modelDir };
    this.workers.push(worker);
    await proc.waitForLog(/worker ready/, 120_000);
    await waitForStatus(`${this.url}/health/ready`, 200);
    return worker;
  }

  pids(): Record<string, number> {
    const pids: Record<string, number> = { redis: this.redis.child.pid!, api: this.api!.child.pid! };
    this.workers.forEach((w, i) => (pids[`worker${i + 1}`] = w.proc.child.pid!));
    return pids;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.proc), ...(this.api ? [this.api] : [])].map((p) => p.stop('SIGTERM', 10_000).catch(() => p.stop('SIGKILL').catch(() => undefined))),
    );
    for (const w of this.workers) rmSync(w.modelDir, { recursive: true, force: true });
    this.redis.stop();
  }
}

/** Worker tuning knobs may be overridden from the caller's environment (to compare settings). */
function passThrough(): Record<string, string> {
  const keys = ['WORKER_CONCURRENCY', 'BATCH_MAX_SIZE', 'BATCH_MAX_WAIT_MS', 'ONNX_INTRA_OP_THREADS'];
  const out: Record<string, string> = {};
  for (const k of keys) if (process.env[k]) out[k] = process.env[k]!;
  // Node options for the api and workers, e.g. BENCH_CHILD_NODE_OPTIONS=--max-semi-space-size=64 to try GC
  // settings (Node refuses --cpu-prof in NODE_OPTIONS: profile a child by starting it by hand).
  if (process.env.BENCH_CHILD_NODE_OPTIONS) out.NODE_OPTIONS = process.env.BENCH_CHILD_NODE_OPTIONS;
  return out;
}

/** Sum and count of the worker's batch-size histogram, and the seconds its model spent inferring. */
async function batchStats(worker: Worker): Promise<{ sum: number; count: number; busySeconds: number }> {
  const body = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
  const sum = Number(/^tagserve_batch_size_sum (\S+)/m.exec(body)?.[1] ?? NaN);
  const count = Number(/^tagserve_batch_size_count (\S+)/m.exec(body)?.[1] ?? NaN);
  const busySeconds = Number(/^tagserve_batch_inference_duration_seconds_sum (\S+)/m.exec(body)?.[1] ?? NaN);
  return { sum, count, busySeconds };
}

// ---------------------------------------------------------------- load generator

interface LoadResult {
  clients: number;
  /** Texts in each request (1 = the gateway's worst case: one HTTP request per text). */
  textsPerRequest: number;
  workers: number;
  textsPerSec: number;
  errors: number;
  latency: Latency;
  meanBatch: number;
  /** Percent of the measured window each worker's model was inferring. */
  modelBusy: number[];
  cpu: Record<string, number>;
}

/** One POST /predict with one text over a keep-alive agent; resolves with the status code. */
function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(
      { agent, host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => ok(res.statusCode ?? 0));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

const perRequest = (r: { textsPerRequest: number }) => (r.textsPerRequest > 1 ? ` × ${r.textsPerRequest} texts` : '');

async function benchEndToEnd(stack: Stack, clients: number, textsPerRequest = 1): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const bodies = TEXTS.map((_, i) =>
    JSON.stringify({ texts: Array.from({ length: textsPerRequest }, (_, k) => ({ text: TEXTS[(i + k) % TEXTS.length] })) }),
  );
  let measuring = false;
  let stopping = false;
  let done = 0;
  let errors = 0;
  const latencies: number[] = [];
  let next = 0;
  const client = async () => {
    while (!stopping) {
      const body = bodies[next++ % bodies.length];
      const t0 = performance.now();
      let status = 0;
      try {
        status = await post(agent, stack.port, body);
      } catch {
        status = -1;
      }
      if (!measuring) continue;
      if (status === 200) {
        done += textsPerRequest;
        latencies.push(performance.now() - t0);
      } else errors++;
    }
  };
  const running = Array.from({ length: clients }, client);
  await sleep(WARMUP_MS);
  const pids = stack.pids();
  const batchBefore = await Promise.all(stack.workers.map(batchStats));
  const cpuBefore = snapshot(pids);
  const benchBefore = process.cpuUsage();
  measuring = true;
  const started = performance.now();
  await sleep(DURATION_MS);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = snapshot(pids);
  const benchUsed = process.cpuUsage(benchBefore);
  const batchAfter = await Promise.all(stack.workers.map(batchStats));
  stopping = true;
  await Promise.all(running);
  agent.destroy();
  const cpu = cpuPercent(cpuBefore, cpuAfter, seconds);
  cpu.loadgen = Math.round(((benchUsed.user + benchUsed.system) / 1e6 / seconds) * 100);
  // What other tenants of the machine used meanwhile (noise indicator).
  cpu.others = Math.max(0, cpu.machine - Object.entries(cpu).reduce((a, [k, v]) => (k === 'machine' ? a : a + v), 0));
  const batchSum = batchAfter.reduce((a, b, i) => a + b.sum - batchBefore[i].sum, 0);
  const batchCount = batchAfter.reduce((a, b, i) => a + b.count - batchBefore[i].count, 0);
  const result: LoadResult = {
    clients,
    textsPerRequest,
    workers: stack.workers.length,
    textsPerSec: done / seconds,
    errors,
    latency: latencyOf(latencies),
    meanBatch: batchCount > 0 ? batchSum / batchCount : NaN,
    // Share of the window each worker's model was inferring: below 100 % the model waited for work.
    modelBusy: batchAfter.map((b, i) => Math.round(((b.busySeconds - batchBefore[i].busySeconds) / seconds) * 100)),
    cpu,
  };
  log(`e2e ${result.workers}w x ${clients} clients${perRequest(result)}: ${result.textsPerSec.toFixed(0)} texts/s, p50 ${result.latency.p50.toFixed(2)} ms, mean batch ${result.meanBatch.toFixed(1)}, model busy ${result.modelBusy.join('/')} %, cpu ${JSON.stringify(cpu)}`);
  return result;
}

// ---------------------------------------------------------------- report

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
function f(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '-' : ':')).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  log(`duration ${DURATION_MS / 1000} s per end-to-end phase (+${WARMUP_MS / 1000} s warm-up), raw ${RAW_DURATION_MS / 1000} s per batch size; ${cpus().length} CPUs`);
  const raw = await benchRaw();

  const stack = await Stack.start();
  const cleanup = () => void stack.stop();
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  const e2e: LoadResult[] = [];
  let rss: { worker1: number; worker1Peak: number; api: number } = { worker1: NaN, worker1Peak: NaN, api: NaN };
  try {
    await stack.startApi();
    const [worker1] = [await stack.startWorker()];
    rss.worker1 = statusKb(worker1.proc.child.pid!, 'VmRSS');
    for (const clients of CLIENTS) e2e.push(await benchEndToEnd(stack, clients));
    e2e.push(await benchEndToEnd(stack, 64, BIG_REQUEST));
    await stack.startWorker();
    e2e.push(await benchEndToEnd(stack, 64));
    e2e.push(await benchEndToEnd(stack, 64, BIG_REQUEST));
    rss = { worker1: rss.worker1, worker1Peak: statusKb(worker1.proc.child.pid!, 'VmHWM'), api: statusKb(stack.api!.child.pid!, 'VmRSS') };
  } finally {
    await stack.stop();
  }

  const rawBest = Math.max(...raw.results.map((r) => r.textsPerSec));
  const raw1 = raw.results.find((r) => r.batch === 1)!;
  const oneText = e2e.filter((r) => r.textsPerRequest === 1);
  const oneWorker = oneText.filter((r) => r.workers === 1);
  const e2eBest1 = Math.max(...oneWorker.map((r) => r.textsPerSec));
  const e2eLow = oneWorker.find((r) => r.clients === 1)!;
  const twoWorkers = oneText.find((r) => r.workers === 2)!;
  const oneWorker64 = oneWorker.find((r) => r.clients === 64)!;
  const bigOne = e2e.find((r) => r.workers === 1 && r.textsPerRequest === BIG_REQUEST)!;
  const bigTwo = e2e.find((r) => r.workers === 2 && r.textsPerRequest === BIG_REQUEST)!;

  const cpuCols = ['api', 'redis', 'worker1', 'worker2', 'loadgen', 'others'];
  const rows: string[][] = [
    ...raw.results.map((r) => [
      `raw in-process, batch ${r.batch}`,
      f(r.textsPerSec),
      f(r.textsPerSec / rawBest, 2),
      r.latency ? f(r.latency.p50, 2) : '',
      r.latency ? f(r.latency.p95, 2) : '',
      r.latency ? f(r.latency.p99, 2) : '',
      f(r.batch),
      '',
      ...cpuCols.map((c) => (c === 'loadgen' ? String(raw.benchCpu) : '')),
    ]),
    ...e2e.map((r) => [
      `end-to-end, ${r.workers} worker${r.workers > 1 ? 's' : ''}, ${r.clients} client${r.clients > 1 ? 's' : ''}${perRequest(r)}`,
      f(r.textsPerSec),
      f(r.textsPerSec / rawBest, 2),
      f(r.latency.p50, 2),
      f(r.latency.p95, 2),
      f(r.latency.p99, 2),
      f(r.meanBatch, 1),
      r.modelBusy.join(' / '),
      ...cpuCols.map((c) => (r.cpu[c] === undefined ? '' : String(r.cpu[c]))),
    ]),
  ];
  const header = ['phase', 'texts/s', '/raw best', 'p50 ms', 'p95 ms', 'p99 ms', 'mean batch', 'model busy %', ...cpuCols.map((c) => `${c} %cpu`)];

  // CPU cost per text is far less sensitive to other tenants than wall-clock throughput.
  const perText = (r: LoadResult, k: string) => (r.cpu[k] === undefined ? NaN : (r.cpu[k] * 10) / r.textsPerSec);
  const costRows: string[][] = [
    ...raw.results.map((r) => [`raw in-process, batch ${r.batch}`, f(r.cpuMsPerText, 2), '', '', '', f(r.cpuMsPerText, 2)]),
    ...e2e.map((r) => {
      const worker = perText(r, 'worker1') + (r.workers > 1 ? perText(r, 'worker2') : 0);
      const api = perText(r, 'api');
      const redis = perText(r, 'redis');
      const loadgen = perText(r, 'loadgen');
      return [`end-to-end, ${r.workers}w, ${r.clients} client${r.clients > 1 ? 's' : ''}${perRequest(r)}`, f(worker, 2), f(api, 2), f(redis, 2), f(loadgen, 2), f(worker + api + redis + loadgen, 2)];
    }),
  ];
  const costTable = table(['phase (CPU ms per text)', 'model/worker(s)', 'api', 'redis', 'load generator', 'total'], costRows);

  const ratios = {
    e2eSaturationOverRaw: e2eBest1 / rawBest,
    addedP50Ms: e2eLow.latency.p50 - raw1.latency!.p50,
    addedP99Ms: e2eLow.latency.p99 - raw1.latency!.p99,
    lowLoadOverRawBatch1: e2eLow.textsPerSec / raw1.textsPerSec,
    twoWorkersOverOne: twoWorkers.textsPerSec / oneWorker64.textsPerSec,
    twoWorkersOverOneBigRequests: bigTwo.textsPerSec / bigOne.textsPerSec,
    twoRawProcessesOverOne: raw.parallel.two / raw.parallel.one,
    bigRequestsOverRaw: bigOne.textsPerSec / rawBest,
  };
  const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const out = [
    '',
    table(header, rows),
    '',
    costTable,
    '',
    `end-to-end / raw at saturation (1 worker, best of ${CLIENTS.join('/')} clients vs best raw batch): ${f(ratios.e2eSaturationOverRaw, 3)}  (target >= 0.9: ${verdict(ratios.e2eSaturationOverRaw >= 0.9)})`,
    `added latency at 1 client, end-to-end - raw batch 1: p50 +${f(ratios.addedP50Ms, 2)} ms  (target <= 5 ms: ${verdict(ratios.addedP50Ms <= 5)}), p99 +${f(ratios.addedP99Ms, 2)} ms`,
    `end-to-end / raw at 1 client (batch 1): ${f(ratios.lowLoadOverRawBatch1, 3)}`,
    `2 workers / 1 worker at 64 clients (ONNX_INTRA_OP_THREADS=1 each): ${f(ratios.twoWorkersOverOne, 2)}x  (target >= 1.7: ${verdict(ratios.twoWorkersOverOne >= 1.7)})`,
    `  the machine's own ceiling: the model alone in 2 processes at once / 1 process (batch ${raw.parallel.batch}): ${f(ratios.twoRawProcessesOverOne, 2)}x (${f(raw.parallel.one)} -> ${f(raw.parallel.two)} texts/s)`,
    `  the same with ${BIG_REQUEST} texts per request (the gateway's share of the CPU shrinks): ${f(ratios.twoWorkersOverOneBigRequests, 2)}x; 1 worker with ${BIG_REQUEST} texts per request / raw: ${f(ratios.bigRequestsOverRaw, 3)}`,
    `worker RSS with the model loaded: ${f(rss.worker1 / 1024, 0)} MiB (peak during the run ${f(rss.worker1Peak / 1024, 0)} MiB); api RSS ${f(rss.api / 1024, 0)} MiB`,
    `%cpu = percent of one core over the measured window (from /proc/<pid>/stat); others = the rest of the host (other tenants); ${cpus().length} cores = ${cpus().length * 100}%`,
    '',
  ].join('\n');
  process.stdout.write(out);

  if (JSON_OUT) {
    const settings = { durationS: DURATION_MS / 1000, warmupS: WARMUP_MS / 1000, cpus: cpus().length, node: process.version, env: passThrough() };
    writeFileSync(JSON_OUT, JSON.stringify({ settings, raw: raw.results, rawParallel: raw.parallel, endToEnd: e2e, ratios, rssKiB: rss }, null, 2) + '\n');
    log(`figures written to ${JSON_OUT}`);
  }
}

const child = process.argv.indexOf('--raw-child');
(child >= 0 ? rawChild(process.argv[child + 1], Number(process.argv[child + 2])) : main()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
