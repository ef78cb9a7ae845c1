/**
 * Trains the tag classifier head (frozen encoder embeddings + tf-idf blocks + optional naive Bayes),
 * cross-validates it on dataset.csv, calibrates it and picks the fallback threshold on the
 * out-of-fold predictions, evaluates it on the holdout and the check set, gates it on the
 * behavioural tests, then writes the artifact, pushes it into the DVC store and rewrites the pointer.
 *
 *   npm run train -- --dataset path/to/dataset.csv --holdout path/to/holdout.csv [--help for the flags]
 */
import { TagClassifier, type EncoderRuntimeOptions } from '@tagserve/model';
import { pushArtifact, resolveEncoder, writeArtifact } from './train-artifact';
import { BEHAVIOURAL_TEXTS, behaviouralGate } from './train-evaluate';
import { parseTrainOptions } from './train-options';
import { argsJson, loadTrainingData, prepareEmbeddings, trainAndEvaluate, type Evaluated, type TrainingData } from './train-run';

const RUNTIME: EncoderRuntimeOptions = { intraOpThreads: 1, interOpThreads: 1 };

/** Reloads the written artifact as the worker will, checks it reproduces the evaluated predictions, and runs the behavioural tests on it. */
async function checkArtifact(outDir: string, data: TrainingData, ev: Evaluated): Promise<string[]> {
  const clf = await TagClassifier.load(outDir, RUNTIME);
  try {
    const sample = data.holdout.slice(0, 32).map((e) => e.text);
    const reloaded = await clf.predict(sample);
    const behaviour = await clf.predict(BEHAVIOURAL_TEXTS);
    const problems = behaviouralGate(behaviour.map((p) => p.predicted_tag));
    // head.json rounds weights to 6 significant digits: probabilities may move in the 4th decimal, not more.
    const drift = reloaded.filter((p, i) => data.labels.some((l, k) => !(Math.abs(p.predicted_probabilities[l] - ev.holdoutProbs[i][k]) < 1e-3))).length;
    if (drift > 0) problems.push(`the reloaded artifact disagrees with the evaluated head on ${drift}/${sample.length} holdout probabilities`);
    return problems;
  } finally {
    await clf.dispose();
  }
}

function printSummary(data: TrainingData, ev: Evaluated): void {
  const s = ev.summary;
  const f = (x: number) => x.toFixed(3);
  console.log(`cross-validation: macro-F1 ${f(s.cvMacroF1[0])} ± ${f(s.cvMacroF1[1])}, weighted-F1 ${f(s.cvWeightedF1[0])} ± ${f(s.cvWeightedF1[1])}`);
  console.log(`calibration: temperature ${ev.temperature}, threshold ${ev.threshold}, holdout ECE ${f(s.ece)}`);
  console.log(`holdout (${data.holdout.length}): weighted-F1 ${f(s.holdoutWeightedF1)}, macro-F1 ${f(s.holdoutMacroF1)}`);
  if (s.freshMacroF1 !== null) console.log(`check set (${data.fresh.length}): macro-F1 ${f(s.freshMacroF1)}`);
  if (s.terseMacroF1 !== null) console.log(`terse check set (${data.terse.length}): macro-F1 ${f(s.terseMacroF1)}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const o = parseTrainOptions(process.argv.slice(2));
  const data = await loadTrainingData(o);
  console.log(
    `data: ${data.train.length} train (${data.relabelled} relabelled), ${data.extra.length} extra, ${data.holdout.length} holdout, ${data.fresh.length} + ${data.terse.length} check sets`,
  );
  const encoder = o.head.embedding ? await resolveEncoder(o.encoder, o.dtype, o.dvcFile, o.store, o.cacheDir) : null;
  const embed = await prepareEmbeddings(encoder, o.head, o.cacheDir, data);
  const ev = trainAndEvaluate(o.head, data, embed, o.folds);
  printSummary(data, ev);

  writeArtifact(o.out, encoder, { head: ev.head.toJSON(), args: argsJson(o, data, encoder, ev), performance: ev.performance });
  const problems = await checkArtifact(o.out, data, ev);
  if (problems.length > 0) {
    console.error(`refusing to push: ${problems.length} check(s) failed\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`behavioural tests: all pass; artifact ${o.out}`);
  if (o.push) {
    const out = await pushArtifact(o.out, o.store, o.dvcFile);
    console.log(`pushed: ${out.md5} (${out.nfiles} files, ${out.size} bytes) -> ${o.store}; pointer ${o.dvcFile}`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
