/**
 * Trains the tag classifier head on frozen encoder embeddings + char tf-idf, evaluates it on the
 * holdout set, writes the artifact directory, pushes it into the DVC store and rewrites the .dvc
 * pointer.
 *
 *   npm run train -- --dataset path/to/made-with-ml/dataset.csv \
 *     --holdout path/to/made-with-ml/holdout.csv --encoder path/to/use-lite
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as transformers from '@huggingface/transformers';
import { pushDirectory, writeDvcFile } from '@tagserve/dvc-store';
import {
  CharTfidfVectorizer,
  classificationReport,
  isEncoderDtype,
  LogisticRegression,
  ONNX_FILE_BY_DTYPE,
  parseCsvRecords,
  TagClassifier,
  TagHead,
  TextEncoder,
  type CharAnalyzer,
  type EmbeddingFeatureConfig,
  type EncoderDtype,
} from '@tagserve/model';

const COURSE = 'https://raw.githubusercontent.com/GokuMohandas/Made-With-ML/main/datasets';
const ENCODER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'LICENSE'];
const BATCH = 32;

type Features = 'both' | 'embedding' | 'tfidf';

interface Options {
  dataset: string;
  holdout: string;
  encoder: string;
  dtype: EncoderDtype | null;
  out: string;
  store: string;
  dvcFile: string;
  seed: number;
  features: Features;
  C: number;
  maxIter: number;
  embeddingWeight: number;
  pooling: 'mean' | 'sentence';
  analyzer: CharAnalyzer;
  ngramRange: [number, number];
  sublinearTf: boolean;
  maxFeatures: number | null;
  push: boolean;
}

function usage(): never {
  console.error(`usage: npm run train -- [--dataset <path|url>] [--holdout <path|url>] [--encoder <dir>]
  [--dtype fp32|q8|int8] [--out <dir>] [--store <dir>] [--dvc-file <file>] [--seed <n>]
  [--features both|embedding|tfidf] [--C <n>] [--max-iter <n>] [--embedding-weight <x>] [--pooling mean|sentence]
  [--analyzer char|char_wb] [--ngram <lo>,<hi>] [--sublinear-tf true|false] [--max-features <n>] [--no-push]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    dataset: `${COURSE}/dataset.csv`,
    holdout: `${COURSE}/holdout.csv`,
    encoder: 'stores/model/encoder',
    dtype: null,
    out: '.cache/train/model',
    store: 'stores/blob',
    dvcFile: 'stores/model.dvc',
    seed: 42,
    features: 'both',
    C: 100,
    maxIter: 500,
    embeddingWeight: 0.5,
    pooling: 'mean',
    analyzer: 'char_wb',
    ngramRange: [2, 5],
    sublinearTf: true,
    maxFeatures: 50000,
    push: true,
  };
  const num = (v: string, name: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`--${name}: not a number: ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') usage();
    if (flag === '--no-push') {
      o.push = false;
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined) usage();
    i++;
    switch (flag) {
      case '--dataset': o.dataset = v; break;
      case '--holdout': o.holdout = v; break;
      case '--encoder': o.encoder = v; break;
      case '--dtype':
        if (!isEncoderDtype(v)) usage();
        o.dtype = v;
        break;
      case '--out': o.out = v; break;
      case '--store': o.store = v; break;
      case '--dvc-file': o.dvcFile = v; break;
      case '--seed': o.seed = num(v, 'seed'); break;
      case '--features':
        if (v !== 'both' && v !== 'embedding' && v !== 'tfidf') usage();
        o.features = v;
        break;
      case '--C': o.C = num(v, 'C'); break;
      case '--max-iter': o.maxIter = num(v, 'max-iter'); break;
      case '--embedding-weight': o.embeddingWeight = num(v, 'embedding-weight'); break;
      case '--pooling':
        if (v !== 'mean' && v !== 'sentence') usage();
        o.pooling = v;
        break;
      case '--analyzer':
        if (v !== 'char' && v !== 'char_wb') usage();
        o.analyzer = v;
        break;
      case '--ngram': {
        const [lo, hi] = v.split(',').map((s) => num(s, 'ngram'));
        o.ngramRange = [lo, hi ?? lo];
        break;
      }
      case '--sublinear-tf': o.sublinearTf = v === 'true'; break;
      case '--max-features': o.maxFeatures = v === 'none' ? null : num(v, 'max-features'); break;
      default:
        console.error(`unknown flag ${flag}`);
        usage();
    }
  }
  return o;
}

async function readSource(src: string): Promise<{ text: string; md5: string }> {
  let buf: Buffer;
  if (/^https?:\/\//i.test(src)) {
    const res = await fetch(src).catch((err: unknown) => {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Error(`GET ${src} failed: ${cause} (pass a local file with --dataset/--holdout when offline)`);
    });
    if (!res.ok) throw new Error(`GET ${src}: HTTP ${res.status}`);
    buf = Buffer.from(await res.arrayBuffer());
  } else {
    buf = fs.readFileSync(src);
  }
  return { text: buf.toString('utf8'), md5: createHash('md5').update(buf).digest('hex') };
}

function loadRows(text: string, src: string): { texts: string[]; tags: string[] } {
  const recs = parseCsvRecords(text);
  if (recs.length === 0 || !('title' in recs[0]) || !('description' in recs[0]) || !('tag' in recs[0])) {
    throw new Error(`${src}: expected columns title, description, tag`);
  }
  return { texts: recs.map((r) => `${r.title} ${r.description}`), tags: recs.map((r) => r.tag) };
}

async function embedAll(encoder: TextEncoder, texts: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += BATCH) out.push(...(await encoder.embed(texts.slice(i, i + BATCH))));
  return out;
}

function transformersVersion(): string {
  const v = (transformers.env as { version?: string }).version;
  if (v) return v;
  try {
    const main = require.resolve('@huggingface/transformers');
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function round(x: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const started = Date.now();
  const o = parseArgs(process.argv.slice(2));
  const useEmb = o.features !== 'tfidf';
  const useTfidf = o.features !== 'embedding';

  const [trainSrc, holdSrc] = await Promise.all([readSource(o.dataset), readSource(o.holdout)]);
  const train = loadRows(trainSrc.text, o.dataset);
  const hold = loadRows(holdSrc.text, o.holdout);
  const labels = [...new Set(train.tags)].sort();
  const index = (t: string, src: string): number => {
    const k = labels.indexOf(t);
    if (k < 0) throw new Error(`${src}: unknown tag '${t}'`);
    return k;
  };
  const yTrain = train.tags.map((t) => index(t, o.dataset));
  const yHold = hold.tags.map((t) => index(t, o.holdout));
  console.log(`data: ${train.texts.length} train, ${hold.texts.length} holdout, labels ${labels.join(', ')}`);

  // Encoder: pick the dtype (q8 preferred) among the onnx files present.
  const encoderDir = path.resolve(o.encoder);
  const has = (d: EncoderDtype) => fs.existsSync(path.join(encoderDir, 'onnx', ONNX_FILE_BY_DTYPE[d]));
  const dtype: EncoderDtype = o.dtype ?? (has('q8') ? 'q8' : 'fp32');
  if (!has(dtype)) throw new Error(`encoder ${o.encoder} has no ${ONNX_FILE_BY_DTYPE[dtype]}`);
  const runtime = { intraOpThreads: 2, interOpThreads: 1 };

  let embedding: EmbeddingFeatureConfig | null = null;
  let embTrain: Float32Array[] | null = null;
  let embHold: Float32Array[] | null = null;
  if (useEmb) {
    const t0 = Date.now();
    const encoder = await TextEncoder.load(encoderDir, runtime, dtype, o.pooling);
    embTrain = await embedAll(encoder, train.texts);
    embHold = await embedAll(encoder, hold.texts);
    await encoder.dispose();
    embedding = { pooling: o.pooling, weight: o.embeddingWeight, dim: embTrain[0].length };
    console.log(`embeddings: ${dtype}/${o.pooling}, ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }

  const tfidf = useTfidf
    ? new CharTfidfVectorizer({
        analyzer: o.analyzer,
        ngramRange: o.ngramRange,
        sublinearTf: o.sublinearTf,
        lowercase: true,
        minDf: 1,
        maxFeatures: o.maxFeatures,
      }).fit(train.texts)
    : null;

  const lr = new LogisticRegression();
  const t1 = Date.now();
  const dims = { denseDim: embedding ? embedding.dim : 0, sparseDim: tfidf ? tfidf.vocabularySize : 0 };
  const fit = lr.fit(TagHead.featurize(train.texts, embTrain, embedding, tfidf), yTrain, labels.length, dims, {
    C: o.C,
    maxIter: o.maxIter,
    seed: o.seed,
  });
  console.log(`head: ${dims.denseDim} dense + ${dims.sparseDim} tf-idf features, ${fit.iterations} L-BFGS iterations, converged=${fit.converged}, ${((Date.now() - t1) / 1000).toFixed(1)}s`);

  // Round-trip through JSON so that the evaluated head is exactly the shipped one.
  const headJson = new TagHead(labels, embedding, tfidf, lr).toJSON();
  const head = TagHead.fromJSON(JSON.parse(JSON.stringify(headJson)));
  const probs = head.predictProba(hold.texts, embHold);
  const yPred = probs.map((p) => p.indexOf(Math.max(...p)));
  const rep = classificationReport(yHold, yPred, labels);
  const performance = {
    accuracy: round(rep.accuracy),
    overall: { ...rep.overall, precision: round(rep.overall.precision), recall: round(rep.overall.recall), f1: round(rep.overall.f1) },
    macro: { ...rep.macro, precision: round(rep.macro.precision), recall: round(rep.macro.recall), f1: round(rep.macro.f1) },
    class: Object.fromEntries(
      Object.entries(rep.class).map(([l, m]) => [l, { precision: round(m.precision), recall: round(m.recall), f1: round(m.f1), num_samples: m.num_samples }]),
    ),
  };

  const args = {
    features: o.features,
    text: 'title + " " + description',
    encoder: useEmb ? { name: path.basename(encoderDir), onnx: `onnx/${ONNX_FILE_BY_DTYPE[dtype]}`, pooling: o.pooling, embedding_weight: o.embeddingWeight } : null,
    dtype,
    tfidf: tfidf ? { ...tfidf.options, smooth_idf: true, norm: 'l2', vocabulary_size: tfidf.vocabularySize } : null,
    classifier: 'multinomial logistic regression (softmax), L2, full-batch L-BFGS',
    C: o.C,
    l2: 1 / o.C,
    epochs: o.maxIter,
    iterations: fit.iterations,
    lr: null,
    seed: o.seed,
    labels,
    dataset: { source: describeSource(o.dataset), md5: trainSrc.md5, num_samples: train.texts.length },
    holdout: { source: describeSource(o.holdout), md5: holdSrc.md5, num_samples: hold.texts.length },
  };
  const rootPkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { name: string; version: string };
  const versions = {
    node: process.version,
    '@huggingface/transformers': transformersVersion(),
    [rootPkg.name]: rootPkg.version,
    created_at: new Date().toISOString(),
  };

  // Write the artifact.
  const out = path.resolve(o.out);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'encoder', 'onnx'), { recursive: true });
  for (const f of ENCODER_FILES) fs.copyFileSync(path.join(encoderDir, f), path.join(out, 'encoder', f));
  const onnxName = ONNX_FILE_BY_DTYPE[dtype];
  fs.copyFileSync(path.join(encoderDir, 'onnx', onnxName), path.join(out, 'encoder', 'onnx', onnxName));
  fs.writeFileSync(path.join(out, 'head.json'), JSON.stringify(headJson));
  fs.writeFileSync(path.join(out, 'args.json'), JSON.stringify(args, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'performance.json'), JSON.stringify(performance, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'versions.json'), JSON.stringify(versions, null, 2) + '\n');

  // Sanity check: the artifact loads and reproduces the holdout predictions.
  const clf = await TagClassifier.load(out, runtime);
  const check = await clf.predict(hold.texts.slice(0, BATCH));
  const mismatches = check.filter((p, i) => p.predicted_tag !== labels[yPred[i]]).length;
  await clf.dispose();
  if (mismatches > 0) console.warn(`warning: reloaded artifact disagrees on ${mismatches}/${check.length} holdout predictions`);

  const sizeOf = (d: string): number =>
    fs.readdirSync(d, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? sizeOf(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
  console.log(`artifact: ${o.out} (${(sizeOf(out) / 1e6).toFixed(1)} MB, head.json ${(fs.statSync(path.join(out, 'head.json')).size / 1e6).toFixed(2)} MB)`);

  if (o.push) {
    const dvcOut = await pushDirectory(out, path.resolve(o.store), 'model');
    await writeDvcFile(path.resolve(o.dvcFile), dvcOut);
    console.log(`pushed: ${dvcOut.md5} (${dvcOut.nfiles} files, ${dvcOut.size} bytes) -> ${o.store}; pointer ${o.dvcFile}`);
  }

  console.log(`holdout: accuracy ${rep.accuracy.toFixed(3)}, macro-F1 ${rep.macro.f1.toFixed(3)}, weighted-F1 ${rep.overall.f1.toFixed(3)}`);
  for (const [l, m] of Object.entries(rep.class)) {
    console.log(`  ${l.padEnd(28)} P ${m.precision.toFixed(3)}  R ${m.recall.toFixed(3)}  F1 ${m.f1.toFixed(3)}  n=${m.num_samples}`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

/** URLs are kept whole; local paths are reduced to the file name, since they only mean something on one machine. */
function describeSource(source: string): string {
  return /^https?:\/\//.test(source) ? source : path.basename(source);
}
