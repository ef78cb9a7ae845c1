/**
 * Side-by-side benchmark on the course's holdout texts (title + description), in one run:
 *   raw        the classifier in-process (batch 1 and 16; one ONNX thread), and the machine's own
 *              ceiling for two workers (the raw loop in 1 vs 2 processes at once);
 *   bare       the same classifier behind a bare node:http server in a child process (no queue);
 *   stack      the built api + BullMQ + 1, then 2 workers (test/support's Stack), ONNX_INTRA_OP_THREADS=1;
 *   paired     with 1 worker, one client's requests in turn to the bare server, the stack and a minimal
 *              NestJS gateway on the stack's queue and worker (added latency, robust to drift);
 *   rounds     the raw loop, a stack with 1 worker and one with 2 at 64 clients, in alternation for
 *              --rounds rounds of --round-duration s each (the throughput ratios, robust to drift);
 *   tf-idf     a char TF-IDF-only head trained now by `npm run train -- --features tfidf`, served by the
 *              same stack (what the encoder costs);
 *   extra      the hand-written short texts (~24 tokens: they overstate throughput ~2x), raw only;
 *   jobs       a bulk job of --jobs-texts holdout texts on 1 and 2 workers, and /predict p50 at 8
 *              clients beside it (scripts/bench/jobs.ts; --no-jobs skips it, it takes ~10 min at 100,000).
 *
 *   npm run build && npm run bench -- --holdout ../shared/datasets/made-with-ml/holdout.csv \
 *     --dataset ../shared/datasets/made-with-ml/dataset.csv [--encoder-onnx <dir>/onnx/model_int8.onnx] \
 *     [--duration 10] [--warmup 2] [--rounds 7] [--round-duration 6] [--no-tfidf] [--jobs-texts 100000 | --no-jobs] [--json bench.json]
 *
 * --encoder-onnx serves the shipped head with that encoder file (e.g. `npm run optimize:encoder`'s);
 * the raw phases then measure the shipped encoder and it side by side.
 * Only ratios within one run compare: the machine's speed drifts ±15 % within minutes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TagClassifier } from '@tagserve/model';
import { materializeStore, pushToTempStore, removeTempDirs, tempDir, trainTfidfHead, type ServedModel } from './bench/artifacts';
import { latencyOf, runLoad, type LoadResult } from './bench/load';
import { startMinGateway } from './bench/min-gateway';
import { pairedLatency, type PairedResult } from './bench/paired';
import { benchJobs, jobsReport, type JobsBenchResult } from './bench/jobs';
import { rawInProcesses, runRaw, startBareServer } from './bench/raw';
import { fmt, loadRow, phaseTable, signed, verdict, type Row } from './bench/report';
import { describeRatio, throughputRounds } from './bench/rounds';
import { passThrough, withStack, type StackRun } from './bench/stack-run';
import { COURSE_HOLDOUT, loadHoldout, SHORT_TEXTS } from './bench/texts';
import { encoderOnnxFile, fp32PeakGflops, loadTokenizer, macsPerToken, meanTokens } from './encoder/flops';
import { dtypeOfFile, swapEncoder } from './encoder/swap-encoder';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    'round-duration': { type: 'string', default: '6' },
    holdout: { type: 'string' },
    dataset: { type: 'string', default: process.env.DATASET_CSV || 'https://raw.githubusercontent.com/GokuMohandas/Made-With-ML/main/datasets/dataset.csv' },
    'encoder-onnx': { type: 'string' },
    'no-tfidf': { type: 'boolean', default: false },
    'jobs-texts': { type: 'string', default: '100000' },
    'no-jobs': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const DURATION_MS = Number(opts.duration) * 1000;
const WARMUP_MS = Number(opts.warmup) * 1000;
const RAW_MS = DURATION_MS / 2;
/** The default BATCH_MAX_SIZE, and the texts per request of the "big request" phases. */
const BATCH = 16;
const ROOT = resolve(__dirname, '..');

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/** The padded-token budget of the raw "token budget" phase (BATCH_MAX_TOKENS=512 measured 15-20 % below FIFO batches of 16). */
const RAW_MAX_BATCH_TOKENS = 512;

async function raw(
  model: ServedModel,
  texts: string[],
  label: string,
  batches: (number | 'budget')[] = [1, BATCH, 'budget'],
): Promise<{ rows: Row[]; batch1: { cpuMs: number; p50: number }; best: { size: number; maxTokens?: number; textsPerSec: number } }> {
  const classifier = await TagClassifier.load(model.dir, { intraOpThreads: 1, interOpThreads: 1 });
  const rows: Row[] = [];
  let batch1 = { cpuMs: NaN, p50: NaN };
  let best = { size: 1, maxTokens: undefined as number | undefined, textsPerSec: 0 };
  for (const batch of batches) {
    const budget = batch === 'budget' ? RAW_MAX_BATCH_TOKENS : undefined;
    const size = batch === 'budget' ? BATCH : batch;
    const run = await runRaw(classifier, texts, size, Math.min(WARMUP_MS, 1000), RAW_MS, undefined, budget);
    const lat = latencyOf(run.latencies);
    const cpuMs = run.cpuMs / run.texts;
    const textsPerSec = run.texts / run.seconds;
    if (batch === 1) batch1 = { cpuMs, p50: lat.p50 };
    const name = budget
      ? `≤ ${BATCH} texts by a ${budget}-token budget from a 64-text backlog (mean ${fmt(run.texts / run.latencies.length, 1)})`
      : `batch ${batch}`;
    rows.push({ phase: `raw ${label}, ${name}`, textsPerSec, p50: lat.p50, p99: lat.p99, modelCpuMsPerText: cpuMs });
    if (textsPerSec > best.textsPerSec) best = { size, maxTokens: budget, textsPerSec };
    log(`${rows[rows.length - 1].phase}: ${fmt(textsPerSec)} texts/s, ${fmt(cpuMs, 2)} CPU ms/text`);
  }
  await classifier.dispose();
  return { rows, batch1, best };
}

async function main(): Promise<void> {
  const TEXTS = (await loadHoldout(opts.holdout)).texts;
  const shipped = await materializeStore('shipped', join(ROOT, 'stores/model.dvc'), join(ROOT, 'stores/blob'));
  let served = shipped;
  if (opts['encoder-onnx']) {
    const dtype = dtypeOfFile(opts['encoder-onnx']);
    if (!dtype) throw new Error(`--encoder-onnx: no dtype has the file name of ${opts['encoder-onnx']}`);
    const dir = join(tempDir('model'), 'model');
    swapEncoder(shipped.dir, dir, resolve(opts['encoder-onnx']), dtype);
    served = await pushToTempStore(`shipped head + ${dtype} encoder`, dir);
  }
  const tokenize = await loadTokenizer(join(shipped.dir, 'encoder'));
  const tokens = { holdout: meanTokens(tokenize, TEXTS), short: meanTokens(tokenize, SHORT_TEXTS) };
  const shippedArgs = JSON.parse(readFileSync(join(shipped.dir, 'args.json'), 'utf8')) as { dtype?: string };
  log(
    `${TEXTS.length} holdout texts, ${fmt(tokens.holdout, 1)} tokens per text (short extra: ${fmt(tokens.short, 1)}); shipped dtype ${String(shippedArgs.dtype)}; ${cpus().length} CPUs`,
  );

  // Raw, in this process.
  const rows: Row[] = [];
  const rawShipped = await raw(shipped, TEXTS, `${shipped.label} (${String(shippedArgs.dtype)})`);
  rows.push(...rawShipped.rows);
  const rawServed = served === shipped ? rawShipped : await raw(served, TEXTS, served.label);
  if (served !== shipped) rows.push(...rawServed.rows);
  rows.push(...(await raw(served, SHORT_TEXTS, `${served.label}, EXTRA: short texts`, [1])).rows);
  const textsFile = join(tempDir('texts'), 'texts.json');
  writeFileSync(textsFile, JSON.stringify(TEXTS));
  const parallel = { one: await rawInProcesses(served.dir, textsFile, BATCH, RAW_MS, 1), two: await rawInProcesses(served.dir, textsFile, BATCH, RAW_MS, 2) };
  rows.push({ phase: `raw ${served.label}, batch ${BATCH}, 1 process`, textsPerSec: parallel.one });
  rows.push({ phase: `raw ${served.label}, batch ${BATCH}, 2 processes at once`, textsPerSec: parallel.two });

  // The classifier behind a bare HTTP server; kept up for the stack's paired phase.
  const bare = await startBareServer(served.dir);
  const bareResults: LoadResult[] = [];
  let paired: PairedResult[] = [];
  let stackRun: StackRun;
  try {
    for (const clients of [1, 64]) {
      const r = await runLoad({
        port: bare.port,
        texts: TEXTS,
        clients,
        textsPerRequest: 1,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        pids: { server: bare.pid },
      });
      bareResults.push(r);
      rows.push(loadRow(`bare node:http + ${served.label}`, r, ['server']));
      log(`bare, ${clients} clients: ${fmt(r.textsPerSec)} texts/s, p50 ${fmt(r.latency.p50, 2)} ms`);
    }
    // The stack; with 1 worker, one client's requests also go in turn to the bare server, the stack
    // and the minimal NestJS gateway on the stack's queue and worker (scripts/bench/paired.ts).
    stackRun = await withStack({
      model: served,
      texts: TEXTS,
      workerCounts: [1, 2],
      phases: (workers) =>
        workers === 1
          ? [
              [1, 1],
              [8, 1],
              [64, 1],
              [64, BATCH],
            ]
          : [
              [64, 1],
              [64, BATCH],
            ],
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      log,
      after: async (stack, workers) => {
        if (workers !== 1) return;
        const min = await startMinGateway({ redisPort: stack.redis.port, password: stack.redis.password, prefix: stack.prefix });
        try {
          const targets = [
            { name: 'bare', port: bare.port },
            { name: 'stack', port: stack.port },
            { name: 'minimal NestJS gateway', port: min.port },
          ];
          paired = await pairedLatency(targets, TEXTS, 3 * DURATION_MS);
          log(`paired, 1 client: ${paired.map((p) => `${p.name} p50 ${fmt(p.p50, 2)} ms (${signed(p.addedP50, 2)})`).join(', ')}; ${paired[0].n} cycles`);
        } finally {
          min.stop();
        }
      },
    });
  } finally {
    bare.stop();
  }
  const e2e = stackRun.loads;
  const stackRow = (key: string, label: string) => loadRow(label, e2e.get(key)!, ['worker1', 'worker2']);
  for (const key of ['1/1/1', '1/8/1', '1/64/1', '1/64/16']) rows.push(stackRow(key, `stack, 1 worker, ${served.label}`));
  for (const key of ['2/64/1', '2/64/16']) rows.push(stackRow(key, `stack, 2 workers, ${served.label}`));
  const rounds = await throughputRounds({
    model: served,
    texts: TEXTS,
    rounds: Number(opts.rounds),
    warmupMs: WARMUP_MS,
    durationMs: Number(opts['round-duration']) * 1000,
    rawBatch: rawServed.best,
    bigRequest: BATCH,
    log,
  });

  // The char TF-IDF-only head, same stack.
  let tfidf: Map<string, LoadResult> | undefined;
  if (!opts['no-tfidf']) {
    const dir = join(tempDir('tfidf'), 'model');
    await trainTfidfHead(join(shipped.dir, 'encoder'), opts.dataset!, opts.holdout || process.env.HOLDOUT_CSV || COURSE_HOLDOUT, dir);
    const model = await pushToTempStore('char TF-IDF-only head', dir);
    rows.push(...(await raw(model, TEXTS, model.label, [1])).rows);
    const tfidfPhases: [number, number][] = [
      [1, 1],
      [64, 1],
    ];
    tfidf = (await withStack({ model, texts: TEXTS, workerCounts: [1], phases: () => tfidfPhases, warmupMs: WARMUP_MS, durationMs: DURATION_MS, log })).loads;
    for (const key of ['1/1/1', '1/64/1']) rows.push(loadRow(`stack, 1 worker, ${model.label}`, tfidf.get(key)!, ['worker1']));
  }

  // Bulk jobs beside /predict traffic.
  const JOB_CLIENTS = 8;
  let jobs: JobsBenchResult | undefined;
  if (!opts['no-jobs'])
    jobs = await benchJobs({ texts: TEXTS, jobTexts: Number(opts['jobs-texts']), clients: JOB_CLIENTS, seconds: DURATION_MS / 1000, env: passThrough() });

  // Ratios (issue targets).
  const raw1 = rawServed.rows[0];
  const one64 = e2e.get('1/64/1')!;
  const encoderMacsPerToken = macsPerToken(encoderOnnxFile(join(served.dir, 'encoder'))).macs;
  const peak = fp32PeakGflops();
  const fp32BoundMsPerText = (2 * encoderMacsPerToken * tokens.holdout) / (peak.gflops * 1e6);
  const ratios = {
    tokensPerText: tokens.holdout,
    e2eOneWorker64OverRawBest: rounds.oneWorkerOverRaw.median,
    twoWorkersOverOne64: rounds.twoWorkersOverOne.median,
    twoWorkersOverOne64Big: rounds.twoWorkersOverOneBig.median,
    sequentialPhases: {
      e2eOneWorker64OverRawBest: one64.textsPerSec / rawServed.best.textsPerSec,
      twoWorkersOverOne64: e2e.get('2/64/1')!.textsPerSec / one64.textsPerSec,
      twoWorkersOverOne64Big: e2e.get('2/64/16')!.textsPerSec / e2e.get('1/64/16')!.textsPerSec,
    },
    twoRawProcessesOverOne: parallel.two / parallel.one,
    addedP50OverBareMs: paired[1].addedP50,
    minGatewayAddedP50OverBareMs: paired[2].addedP50,
    addedP50OverBareSequentialMs: e2e.get('1/1/1')!.latency.p50 - bareResults[0].latency.p50,
    bareOverRawBatch1P50Ms: bareResults[0].latency.p50 - (raw1.p50 ?? NaN),
    servedOverShippedRawCpu: served === shipped ? 1 : rawShipped.batch1.cpuMs / rawServed.batch1.cpuMs,
    tfidfOverEncoder64: tfidf ? tfidf.get('1/64/1')!.textsPerSec / one64.textsPerSec : NaN,
    fp32BoundMsPerText,
    rawBatch1CpuOverBound: rawServed.batch1.cpuMs / fp32BoundMsPerText,
  };

  // Other tenants' CPU during the load phases: above ~50 % of one core the wall-clock columns (texts/s, ms) say more about them than about tagserve.
  const others = rows.map((r) => r.cpu?.others ?? 0);
  const busiest = Math.max(0, ...others);
  const out = [
    '',
    busiest > 50 ? `WARNING: other processes used up to ${busiest} % CPU during the load phases: compare the CPU ms per text, not texts/s or latencies` : '',
    `holdout texts: ${TEXTS.length}, ${fmt(tokens.holdout, 1)} tokens per text (the short extra: ${fmt(tokens.short, 1)}); model CPU ms/text = CPU of the process(es) running the model per text`,
    phaseTable(rows),
    '',
    `throughput ratios in ${rounds.rounds} alternated rounds (median, range); sequential phases above in brackets:`,
    `stack 1 worker at 64 clients / raw best (${served.label}): ${describeRatio(rounds.oneWorkerOverRaw)}  (target >= 0.9: ${verdict(ratios.e2eOneWorker64OverRawBest >= 0.9)}) [${fmt(ratios.sequentialPhases.e2eOneWorker64OverRawBest, 2)}]`,
    `2 workers / 1 worker at 64 clients: ${describeRatio(rounds.twoWorkersOverOne)}  (target >= 1.7: ${verdict(ratios.twoWorkersOverOne64 >= 1.7)}) [${fmt(ratios.sequentialPhases.twoWorkersOverOne64, 2)}]`,
    `  with ${BATCH} texts per request: ${describeRatio(rounds.twoWorkersOverOneBig)} [${fmt(ratios.sequentialPhases.twoWorkersOverOne64Big, 2)}]; the machine's ceiling (raw loop, 2 processes / 1) ${fmt(ratios.twoRawProcessesOverOne, 2)}x`,
    `added p50 at 1 client, stack - bare server (paired, ${paired[0].n} cycles): ${signed(ratios.addedP50OverBareMs, 2)} ms  (target <= 3 ms: ${verdict(ratios.addedP50OverBareMs <= 3)}); sequential phases: ${signed(ratios.addedP50OverBareSequentialMs, 2)} ms; bare server - raw batch 1: ${signed(ratios.bareOverRawBatch1P50Ms, 2)} ms`,
    `  the minimal NestJS gateway on the same queue and worker - bare server (paired): ${signed(ratios.minGatewayAddedP50OverBareMs, 2)} ms, so tagserve's gateway adds ${signed(ratios.addedP50OverBareMs - ratios.minGatewayAddedP50OverBareMs, 2)} ms to it`,
    `raw batch 1, CPU ms per text / fp32 FLOP bound (${fmt(encoderMacsPerToken / 1e6, 2)} M MAC per token, ${peak.isa} ${fmt(peak.ghz, 2)} GHz = ${fmt(peak.gflops)} GFLOP/s: ${fmt(ratios.fp32BoundMsPerText, 2)} ms): ${fmt(ratios.rawBatch1CpuOverBound, 2)}  (target <= 2: ${verdict(ratios.rawBatch1CpuOverBound <= 2)})`,
    served === shipped ? '' : `raw batch 1 CPU per text, shipped / ${served.label}: ${fmt(ratios.servedOverShippedRawCpu, 2)}x`,
    tfidf ? `what the encoder costs: TF-IDF-only head / ${served.label}, stack 1 worker at 64 clients: ${fmt(ratios.tfidfOverEncoder64, 2)}x the texts/s` : '',
    jobs ? jobsReport(jobs, JOB_CLIENTS) : '',
    `worker peak RSS ${fmt(stackRun.workerPeakRssKiB / 1024)} MiB; %cpu = percent of one core (from /proc/<pid>/stat), others = the rest of the host; ${cpus().length} cores`,
    '',
  ].join('\n');
  process.stdout.write(out);
  if (opts.json) {
    const settings = {
      durationS: DURATION_MS / 1000,
      warmupS: WARMUP_MS / 1000,
      rounds: Number(opts.rounds),
      roundDurationS: Number(opts['round-duration']),
      cpus: cpus().length,
      node: process.version,
      env: passThrough(),
    };
    writeFileSync(
      opts.json,
      JSON.stringify({ settings, tokens, rows, paired, rounds, ratios, jobs, workerPeakRssKiB: stackRun.workerPeakRssKiB }, null, 2) + '\n',
    );
    log(`figures written to ${opts.json}`);
  }
}

main().then(
  () => (removeTempDirs(), process.exit(0)),
  (err) => {
    console.error(err);
    removeTempDirs();
    process.exit(1);
  },
);
