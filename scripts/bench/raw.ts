/**
 * The classifier without the queue: in this process on fixed-size batches ("raw"), and in child
 * processes: the same loop in one and in two processes at once (the machine's own ceiling for two
 * workers), and behind a bare node:http server (what the queue and gateway add).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { TagClassifier } from '@tagserve/model';
import { takeByTokenBudget } from '../../apps/worker/src/model/token-budget';

const ROOT = join(__dirname, '..', '..');
const RUNTIME = { intraOpThreads: 1, interOpThreads: 1 };

export interface RawRun {
  texts: number;
  seconds: number;
  latencies: number[];
  cpuMs: number;
}

/** Texts waiting when batches are formed by a token budget: what 64 clients keep queued. */
const BUDGET_BACKLOG = 64;

/**
 * `warmupMs` of warm-up, then `beforeMeasuring`, then `durationMs` of batches of `batch` texts
 * cycling `texts`; with `maxBatchTokens`, batches are taken from a backlog of 64 texts the way
 * the worker does with BATCH_MAX_TOKENS (at most `batch` texts).
 */
export async function runRaw(
  classifier: TagClassifier,
  texts: string[],
  batch: number,
  warmupMs: number,
  durationMs: number,
  beforeMeasuring: () => Promise<void> = async () => undefined,
  maxBatchTokens?: number,
): Promise<RawRun> {
  let next = 0;
  const backlog: { text: string }[] = [];
  const take = (): string[] => {
    if (!maxBatchTokens) return Array.from({ length: batch }, () => texts[next++ % texts.length]);
    while (backlog.length < BUDGET_BACKLOG) backlog.push({ text: texts[next++ % texts.length] });
    return takeByTokenBudget(backlog, batch, maxBatchTokens).map((b) => b.text);
  };
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await classifier.predict(take());
  await beforeMeasuring();
  const latencies: number[] = [];
  let count = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const t0 = performance.now();
    const taken = take();
    await classifier.predict(taken);
    latencies.push(performance.now() - t0);
    count += taken.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { texts: count, seconds, latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', __filename, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

function lines(child: ChildProcess): () => Promise<string> {
  const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return async () => {
    const { value, done } = await it.next();
    if (done) throw new Error('bench child ended early');
    return value as string;
  };
}

/** texts/s of `processes` processes running the raw loop at once (each one ONNX thread), summed. */
export async function rawInProcesses(modelDir: string, textsFile: string, batch: number, durationMs: number, processes: number): Promise<number> {
  const children = Array.from({ length: processes }, () => spawnChild(['--raw', modelDir, textsFile, String(batch), String(durationMs)]));
  try {
    const next = children.map(lines);
    await Promise.all(next.map((n) => n())); // "ready": loaded and warm
    for (const child of children) child.stdin!.write('go\n');
    const rates = await Promise.all(next.map(async (n) => (JSON.parse(await n()) as { textsPerSec: number }).textsPerSec));
    return rates.reduce((a, b) => a + b, 0);
  } finally {
    for (const child of children) child.kill();
  }
}

/** The classifier behind a bare node:http server in a child process; resolves with its port and pid. */
export async function startBareServer(modelDir: string): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawnChild(['--bare', modelDir]);
  const { port } = JSON.parse(await lines(child)()) as { port: number };
  return { port, pid: child.pid!, stop: () => child.kill() };
}

async function rawChild(modelDir: string, textsFile: string, batch: number, durationMs: number): Promise<void> {
  const texts = JSON.parse(readFileSync(textsFile, 'utf8')) as string[];
  const classifier = await TagClassifier.load(modelDir, RUNTIME);
  const run = await runRaw(classifier, texts, batch, 1000, durationMs, async () => {
    process.stdout.write('ready\n');
    await new Promise((go) => process.stdin.once('data', go));
  });
  process.stdout.write(JSON.stringify({ textsPerSec: run.texts / run.seconds }) + '\n');
}

/** POST /predict {texts: [{text}]} -> {predictions}: the classifier called per request, nothing else. */
async function bareServer(modelDir: string): Promise<void> {
  const classifier = await TagClassifier.load(modelDir, RUNTIME);
  await classifier.warmUp();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { texts: { text: string }[] };
      classifier.predict(body.texts.map((t) => t.text)).then(
        (predictions) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ predictions })),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n'));
}

if (require.main === module) {
  const [mode, modelDir, ...rest] = process.argv.slice(2);
  const main = mode === '--raw' ? rawChild(modelDir, rest[0], Number(rest[1]), Number(rest[2])) : bareServer(modelDir);
  main.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
