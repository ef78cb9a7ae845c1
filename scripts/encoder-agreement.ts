/**
 * Does a re-encoded encoder give the shipped classifier the same tags? Materializes the artifact
 * from the DVC store, makes a copy whose encoder is the given ONNX file (the head unchanged), and
 * compares the two on the course's holdout set and the training set: predicted-tag agreement (and
 * the first 10 texts whose tag flips, with both top probabilities), accuracy and weighted F1 of
 * each, largest probability difference. Exits 1 below --min.
 * `--against <onnx> --against-dtype <dtype>` compares with another encoder file under the same head
 * instead of the shipped one (e.g. a quantized file against the original fp32 weights).
 *
 *   npm run optimize:encoder -- --in ../shared/models/use-lite --out /tmp/use-lite-int8
 *   npm run encoder:agreement -- --onnx /tmp/use-lite-int8/onnx/model_int8.onnx --dtype int8 \
 *     --holdout ../shared/datasets/made-with-ml/holdout.csv --dataset ../shared/datasets/made-with-ml/dataset.csv
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { materialize } from '@tagserve/dvc-store';
import { classificationReport, isEncoderDtype, TagClassifier, type Prediction } from '@tagserve/model';
import { loadHoldout, type LabelledTexts } from './bench/texts';
import { swapEncoder } from './encoder/swap-encoder';

const { values } = parseArgs({
  options: {
    onnx: { type: 'string' },
    dtype: { type: 'string', default: 'int8' },
    against: { type: 'string' },
    'against-dtype': { type: 'string', default: 'fp32' },
    holdout: { type: 'string' },
    dataset: { type: 'string', multiple: true, default: [] },
    'dvc-file': { type: 'string', default: 'stores/model.dvc' },
    store: { type: 'string', default: 'stores/blob' },
    batch: { type: 'string', default: '16' },
    min: { type: 'string', default: '0.995' },
  },
});

async function predictAll(clf: TagClassifier, texts: string[], batch: number): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for (let i = 0; i < texts.length; i += batch) out.push(...(await clf.predict(texts.slice(i, i + batch))));
  return out;
}

function compare(name: string, set: LabelledTexts, a: Prediction[], b: Prediction[], labels: string[]): number {
  let same = 0;
  let maxDiff = 0;
  let sumDiff = 0;
  const flips: string[] = [];
  const top = (p: Prediction) => Math.max(...labels.map((l) => p.predicted_probabilities[l])).toFixed(4);
  for (let i = 0; i < a.length; i++) {
    if (a[i].predicted_tag === b[i].predicted_tag) same++;
    // Which texts flip, and how close to a decision boundary they sit (top probability against args.threshold).
    else
      flips.push(
        `  row ${i + 1} (${set.tags[i] || 'no label'}): ${a[i].predicted_tag} ${top(a[i])} -> ${b[i].predicted_tag} ${top(b[i])}: ${JSON.stringify(set.texts[i].slice(0, 80))}`,
      );
    const diff = Math.max(...labels.map((l) => Math.abs(a[i].predicted_probabilities[l] - b[i].predicted_probabilities[l])));
    maxDiff = Math.max(maxDiff, diff);
    sumDiff += diff;
  }
  const truth = set.tags.map((t) => labels.indexOf(t));
  const known = truth.map((t, i) => (t >= 0 ? i : -1)).filter((i) => i >= 0);
  const report = (p: Prediction[]) =>
    classificationReport(
      known.map((i) => truth[i]),
      known.map((i) => labels.indexOf(p[i].predicted_tag)),
      labels,
    );
  const [ra, rb] = [report(a), report(b)];
  console.log(
    `${name}: ${a.length} texts, same tag ${same}/${a.length} = ${((same / a.length) * 100).toFixed(2)} %, max |dp| ${maxDiff.toFixed(4)}, mean ${(sumDiff / a.length).toFixed(4)}; ` +
      `accuracy ${ra.accuracy.toFixed(4)} -> ${rb.accuracy.toFixed(4)}, weighted F1 ${ra.overall.f1.toFixed(4)} -> ${rb.overall.f1.toFixed(4)}`,
  );
  for (const line of flips.slice(0, 10)) console.log(line);
  return same / a.length;
}

async function main(): Promise<void> {
  const againstDtype = values['against-dtype']!;
  if (!values.onnx || !isEncoderDtype(values.dtype) || !isEncoderDtype(againstDtype))
    throw new Error('usage: --onnx <file> --dtype fp32|q8|int8 [--against <file> --against-dtype fp32|q8|int8] [--holdout <csv>] [--dataset <csv>]...');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'encoder-agreement-'));
  try {
    const shipped = path.join(tmp, 'shipped');
    const swapped = path.join(tmp, 'swapped');
    await materialize({ dvcFile: values['dvc-file']!, storeDir: values.store!, targetDir: shipped });
    swapEncoder(shipped, swapped, path.resolve(values.onnx), values.dtype);
    let reference = shipped;
    if (values.against) {
      reference = path.join(tmp, 'against');
      swapEncoder(shipped, reference, path.resolve(values.against), againstDtype);
    }
    const runtime = { intraOpThreads: 1, interOpThreads: 1 };
    const [a, b] = [await TagClassifier.load(reference, runtime), await TagClassifier.load(swapped, runtime)];
    const what = values.against ? `${againstDtype} (${path.basename(values.against)})` : `shipped ${String(a.args.dtype)}`;
    console.log(`reference encoder: ${what}; compared: ${values.dtype} (${path.basename(values.onnx)}), same head`);
    const sets: [string, LabelledTexts][] = [['holdout', await loadHoldout(values.holdout)]];
    for (const file of values.dataset!) sets.push([path.basename(file), await loadHoldout(file)]);
    let worst = 1;
    for (const [name, set] of sets) {
      const batch = Number(values.batch);
      const [pa, pb] = [await predictAll(a, set.texts, batch), await predictAll(b, set.texts, batch)];
      worst = Math.min(worst, compare(name, set, pa, pb, a.labels));
    }
    await Promise.all([a.dispose(), b.dispose()]);
    if (worst < Number(values.min)) {
      console.error(`agreement ${worst.toFixed(4)} < ${values.min}`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
