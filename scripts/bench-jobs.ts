/**
 * Bulk job figures (prints them; asserts nothing), all measured in one run on this machine:
 *
 *   npm run build && npm run bench:jobs [-- --texts 100000 --clients 8 --seconds 10 --json out.json]
 *
 * 1. the model in-process (TagClassifier.predict, batch 16, one ONNX thread): the raw ceiling;
 * 2. a bulk job of --texts texts on 1 worker, then on 2: texts/s from POST /jobs to completed,
 *    against raw and against each other;
 * 3. /predict (1 text) p50 at --clients keep-alive clients for --seconds, without a bulk job, then
 *    while one of --texts texts runs: the cost of bulk work to interactive traffic.
 * Starts its own redis-server, api and workers (test/support's Stack) and stops them at the end.
 */
import { materialize } from '@tagserve/dvc-store';
import { TagClassifier } from '@tagserve/model';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, send } from '../test/support/http';
import { Stack } from '../test/support/stack';

const ROOT = join(__dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const TEXT_COUNT = Number(arg('texts', '100000'));
const CLIENTS = Number(arg('clients', '8'));
const SECONDS = Number(arg('seconds', '10'));
const JSON_OUT = process.argv.includes('--json') ? arg('json', 'bench-jobs.json') : undefined;

const TOPICS = [
  'Transfer learning with transformers for text classification and named entity recognition.',
  'YOLO real-time object detection and image segmentation with convolutional networks.',
  'Serving models in production: CI/CD, monitoring, feature stores and model registry.',
  'A curated list of awesome resources, tutorials and papers.',
];
/** Distinct texts of about the dataset's length (title + description, ~150-200 characters). */
const text = (i: number) => `${TOPICS[i % 4]} ${TOPICS[(i >> 2) % 4]} #${i}`;
const log = (msg: string) => console.error(`[bench:jobs] ${msg}`);

async function rawTextsPerSec(texts: string[]): Promise<number> {
  const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-bench-jobs-model-'));
  try {
    await materialize({ dvcFile: join(ROOT, 'stores/model.dvc'), storeDir: join(ROOT, 'stores/blob'), targetDir: modelDir });
    const classifier = await TagClassifier.load(modelDir, { intraOpThreads: 1, interOpThreads: 1 });
    await classifier.predict(texts.slice(0, 16));
    const started = performance.now();
    for (let i = 0; i < texts.length; i += 16) await classifier.predict(texts.slice(i, i + 16));
    const seconds = (performance.now() - started) / 1000;
    await classifier.dispose();
    return texts.length / seconds;
  } finally {
    rmSync(modelDir, { recursive: true, force: true });
  }
}

/** POST /jobs with every text, then polls until completed: texts/s over the whole job, and the POST's own time. */
async function runJob(stack: Stack, texts: string[]): Promise<{ id: string; textsPerSec: number; submitMs: number; done: Promise<void> }> {
  const started = performance.now();
  const res = await send(`${stack.url}/jobs`, { body: { texts: texts.map((t) => ({ text: t })) }, timeoutMs: 120_000 });
  if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${res.text.slice(0, 300)}`);
  const submitMs = performance.now() - started;
  const id: string = res.body.data.id;
  const result = { id, textsPerSec: 0, submitMs, done: Promise.resolve() };
  result.done = (async () => {
    for (;;) {
      const view = (await send(`${stack.url}/jobs/${id}?limit=1`, { method: 'GET' })).body?.data;
      if (view?.state === 'completed') break;
      if (view?.state === 'failed' || view?.state === 'canceled') throw new Error(`job ${id} ${view.state}: ${view.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    result.textsPerSec = texts.length / ((performance.now() - started) / 1000);
  })();
  return result;
}

/** `clients` keep-alive clients sending one text each to /predict for `seconds`: latencies of the 200s. */
async function predictLoad(
  stack: Stack,
  clients: number,
  seconds: number,
): Promise<{ p50: number; p95: number; requests: number; errors: number; errorKinds: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const errorKinds = new Set<string>();
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const res = await send(`${stack.url}/predict`, { body: { texts: [{ text: text(n++) }] }, agent, timeoutMs: 30_000 });
        if (res.status === 200) latencies.push(res.ms);
        else {
          errors++;
          errorKinds.add(`${res.status} ${res.error ?? res.body?.error ?? ''}`.slice(0, 120));
        }
      }
    }),
  );
  agent.destroy();
  if (errors > 0) log(`errors: ${[...errorKinds].join(' | ')}`);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), requests: latencies.length, errors, errorKinds: [...errorKinds] };
}

async function main(): Promise<void> {
  const texts = Array.from({ length: TEXT_COUNT }, (_, i) => text(i));
  log(`raw model, batch 16, ${TEXT_COUNT} texts ...`);
  const raw = await rawTextsPerSec(texts);
  log(`raw: ${raw.toFixed(0)} texts/s`);

  const chunkSize = process.env.JOBS_CHUNK_SIZE ?? '32';
  const stack = await Stack.create({
    JOBS_MAX_TEXTS: String(Math.max(TEXT_COUNT, 100000)),
    JOBS_CHUNK_SIZE: chunkSize,
    PREDICT_TIMEOUT_MS: '60000',
    THROTTLE_LIMIT: '100000000',
  });
  try {
    await stack.startApi();
    await stack.startWorker({ ONNX_INTRA_OP_THREADS: '1' });
    await stack.waitUntilReady();

    log(`/predict alone, ${CLIENTS} clients, ${SECONDS} s ...`);
    const alone = await predictLoad(stack, CLIENTS, SECONDS);
    log(`/predict alone: p50 ${alone.p50.toFixed(1)} ms`);

    log(`bulk job of ${TEXT_COUNT} texts on 1 worker (with /predict load for its first ${SECONDS} s) ...`);
    const one = await runJob(stack, texts);
    const during = await predictLoad(stack, CLIENTS, SECONDS);
    await one.done;
    log(`1 worker: ${one.textsPerSec.toFixed(0)} texts/s (POST ${one.submitMs.toFixed(0)} ms); /predict during it: p50 ${during.p50.toFixed(1)} ms`);

    log(`bulk job of ${TEXT_COUNT} texts on 2 workers ...`);
    await stack.startWorker({ ONNX_INTRA_OP_THREADS: '1' });
    const two = await runJob(stack, texts);
    await two.done;
    log(`2 workers: ${two.textsPerSec.toFixed(0)} texts/s`);

    // The 1-worker job's texts/s includes the /predict load run beside it for its first SECONDS s.
    const rows: Array<[string, string]> = [
      ['raw in-process, batch 16', `${raw.toFixed(0)} texts/s`],
      [`bulk job, 1 worker (POST took ${one.submitMs.toFixed(0)} ms)`, `${one.textsPerSec.toFixed(0)} texts/s = ${(one.textsPerSec / raw).toFixed(2)} × raw`],
      ['bulk job, 2 workers', `${two.textsPerSec.toFixed(0)} texts/s = ${(two.textsPerSec / one.textsPerSec).toFixed(2)} × 1 worker`],
      [
        `/predict p50, ${CLIENTS} clients, alone`,
        `${alone.p50.toFixed(1)} ms (p95 ${alone.p95.toFixed(1)}, ${alone.requests} requests, ${alone.errors} errors)`,
      ],
      [
        `/predict p50, ${CLIENTS} clients, bulk job running`,
        `${during.p50.toFixed(1)} ms = ${(during.p50 / alone.p50).toFixed(2)} × alone (p95 ${during.p95.toFixed(1)}, ${during.requests} requests, ${during.errors} errors)`,
      ],
    ];
    console.log(`\nbulk jobs, ${TEXT_COUNT} texts, chunks of ${chunkSize}\n`);
    console.log('| measurement | figure |\n|---|---|');
    for (const [name, figure] of rows) console.log(`| ${name} | ${figure} |`);
    if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ texts: TEXT_COUNT, raw, one, two, alone, during }, null, 2));
  } finally {
    await stack.stop();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
