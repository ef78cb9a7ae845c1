/**
 * Bulk-job figures, measured in one run on this machine (prints them; asserts nothing):
 *
 * 1. the model in-process (TagClassifier.predict, batch 16, one ONNX thread): the raw ceiling;
 * 2. a bulk job of `texts` texts on 1 worker, then on 2: texts/s from POST /jobs to completed,
 *    against raw and against each other;
 * 3. /predict (1 text) p50 at `clients` keep-alive clients for `seconds`, without a bulk job, then
 *    while one of `texts` texts runs (that job is then canceled): what bulk work costs interactive traffic.
 * The texts are the given ones (the course's holdout) cycled to `texts`. Starts its own
 * redis-server, api and workers (test/support's Stack) and stops them at the end.
 */
import { TagClassifier } from '@tagserve/model';
import { Agent } from 'node:http';
import { join, resolve } from 'node:path';
import { percentile, send } from '../../test/support/http';
import { Stack } from '../../test/support/stack';
import { materializeStore } from './artifacts';
import { BENCH_STACK_ENV } from './stack-run';

const ROOT = resolve(__dirname, '../..');
const log = (msg: string) => process.stderr.write(`[bench:jobs] ${msg}\n`);

export interface JobsBenchOptions {
  /** Texts to cycle (the course's holdout texts). */
  texts: string[];
  /** Texts in each bulk job (the figure: 100,000). */
  jobTexts: number;
  clients: number;
  seconds: number;
  /** Extra environment for the stack (e.g. BATCH_BULK_MAX_SIZE, JOBS_CHUNK_SIZE to compare settings). */
  env?: Record<string, string>;
}

interface PredictLatency {
  p50: number;
  p95: number;
  requests: number;
  errors: number;
  errorKinds: string[];
}

export interface JobsBenchResult {
  jobTexts: number;
  raw: number;
  oneWorker: { textsPerSec: number; submitMs: number };
  twoWorkers: { textsPerSec: number; submitMs: number };
  alone: PredictLatency;
  during: PredictLatency;
  ratios: { oneWorkerOverRaw: number; twoWorkersOverOne: number; predictP50DuringOverAlone: number };
}

/**
 * The shipped model in-process over the job's own texts, measured right before the jobs (not taken
 * from the bench's raw phase minutes earlier: the machine's speed drifts ±15 % within minutes).
 */
async function rawTextsPerSec(texts: string[]): Promise<number> {
  const model = await materializeStore('shipped', join(ROOT, 'stores/model.dvc'), join(ROOT, 'stores/blob'));
  const classifier = await TagClassifier.load(model.dir, { intraOpThreads: 1, interOpThreads: 1 });
  await classifier.predict(texts.slice(0, 16));
  const started = performance.now();
  for (let i = 0; i < texts.length; i += 16) await classifier.predict(texts.slice(i, i + 16));
  const seconds = (performance.now() - started) / 1000;
  await classifier.dispose();
  return texts.length / seconds;
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
async function predictLoad(stack: Stack, texts: string[], clients: number, seconds: number): Promise<PredictLatency> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const errorKinds = new Set<string>();
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const res = await send(`${stack.url}/predict`, { body: { texts: [{ text: texts[n++ % texts.length] }] }, agent, timeoutMs: 30_000 });
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

export async function benchJobs({ texts: source, jobTexts, clients, seconds, env = {} }: JobsBenchOptions): Promise<JobsBenchResult> {
  const texts = Array.from({ length: jobTexts }, (_, i) => source[i % source.length]);
  log(`raw model, batch 16, ${jobTexts} texts ...`);
  const raw = await rawTextsPerSec(texts);
  log(`raw: ${raw.toFixed(0)} texts/s`);
  const stack = await Stack.create({
    ...BENCH_STACK_ENV,
    JOBS_MAX_TEXTS: String(Math.max(jobTexts, 100000)),
    PREDICT_TIMEOUT_MS: '60000',
    ...env,
  });
  try {
    await stack.startApi();
    await stack.startWorker({ LOG_LEVEL: 'log' }); // Stack waits for its 'worker ready' line
    await stack.waitUntilReady();
    await predictLoad(stack, source, clients, 1); // warm-up
    const alone = await predictLoad(stack, source, clients, seconds);
    log(`/predict alone, ${clients} clients: p50 ${alone.p50.toFixed(1)} ms`);

    const one = await runJob(stack, texts);
    await one.done;
    log(`bulk job on 1 worker: ${one.textsPerSec.toFixed(0)} texts/s`);

    // The same job again, with /predict traffic beside it; canceled once measured (its texts/s is not a figure).
    const beside = await runJob(stack, texts);
    // Handled from the start: the poll can see the job canceled before the DELETE's answer is read.
    const besideSettled = beside.done.catch(() => undefined);
    const during = await predictLoad(stack, source, clients, seconds);
    await send(`${stack.url}/jobs/${beside.id}`, { method: 'DELETE' });
    await besideSettled;
    log(`/predict beside a bulk job: p50 ${during.p50.toFixed(1)} ms`);

    await stack.startWorker({ LOG_LEVEL: 'log' }); // Stack waits for its 'worker ready' line
    await stack.waitUntilReady();
    const two = await runJob(stack, texts);
    await two.done;
    log(`bulk job on 2 workers: ${two.textsPerSec.toFixed(0)} texts/s`);
    const ratios = {
      oneWorkerOverRaw: one.textsPerSec / raw,
      twoWorkersOverOne: two.textsPerSec / one.textsPerSec,
      predictP50DuringOverAlone: during.p50 / alone.p50,
    };
    return {
      jobTexts,
      raw,
      oneWorker: { textsPerSec: one.textsPerSec, submitMs: one.submitMs },
      twoWorkers: { textsPerSec: two.textsPerSec, submitMs: two.submitMs },
      alone,
      during,
      ratios,
    };
  } finally {
    await stack.stop();
  }
}

/** The figures and the targets, as lines for stdout. */
export function jobsReport(r: JobsBenchResult, clients: number): string {
  const ok = (met: boolean) => (met ? 'ok' : 'MISSED');
  return [
    `bulk jobs (${r.jobTexts} holdout texts cycled): raw in-process batch 16 ${r.raw.toFixed(0)} texts/s`,
    `  1 worker: ${r.oneWorker.textsPerSec.toFixed(0)} texts/s = ${r.ratios.oneWorkerOverRaw.toFixed(2)} x raw (target >= 0.9: ${ok(r.ratios.oneWorkerOverRaw >= 0.9)})`,
    `  2 workers: ${r.twoWorkers.textsPerSec.toFixed(0)} texts/s = ${r.ratios.twoWorkersOverOne.toFixed(2)} x 1 worker (target >= 1.7: ${ok(r.ratios.twoWorkersOverOne >= 1.7)})`,
    `  /predict p50 at ${clients} clients: alone ${r.alone.p50.toFixed(1)} ms (p95 ${r.alone.p95.toFixed(1)}, ${r.alone.errors} errors), beside the 1-worker job ${r.during.p50.toFixed(1)} ms (p95 ${r.during.p95.toFixed(1)}, ${r.during.errors} errors) = ${r.ratios.predictP50DuringOverAlone.toFixed(2)} x alone (target <= 2: ${ok(r.ratios.predictP50DuringOverAlone <= 2)})`,
  ].join('\n');
}
