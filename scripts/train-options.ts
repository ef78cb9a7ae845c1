/**
 * `npm run train` flags, parsed with node:util's parseArgs. The defaults are the shipped model's
 * configuration (the levers table in the README says why each one is on).
 */
import { parseArgs } from 'node:util';
import { ONNX_FILE_BY_DTYPE, type EmbeddingPooling, type EncoderDtype, type TfidfAnalyzer, type TfidfOptions } from '@tagserve/model';
import type { HeadConfig } from './train-fit';

const COURSE = 'https://raw.githubusercontent.com/GokuMohandas/Made-With-ML/main/datasets';

export interface TrainOptions {
  dataset: string;
  holdout: string;
  fresh: string | null;
  /** A second check set in another style (terse repository one-liners): how much of the check-set gain carries over. */
  terse: string | null;
  relabels: string | null;
  extra: string | null;
  /** null: the encoder of the artifact `dvcFile` points at, materialized from `store`. */
  encoder: string | null;
  dtype: EncoderDtype | null;
  out: string;
  store: string;
  dvcFile: string;
  cacheDir: string;
  folds: number;
  push: boolean;
  head: HeadConfig;
}

export const USAGE = `usage: npm run train -- [--dataset <path|url>] [--holdout <path|url>] [--fresh <csv>|none] [--terse <csv>|none]
  [--relabels <csv>|none] [--extra <csv>[,<csv>...]|none] [--encoder <dir>] [--dtype ${Object.keys(ONNX_FILE_BY_DTYPE).join('|')}]
  [--out <dir>] [--store <dir>] [--dvc-file <file>] [--cache-dir <dir>] [--folds <k>] [--no-push]
  [--features both|embedding|tfidf] [--pooling mean|sentence] [--embedding-weight <x>]
  [--tfidf <analyzer>:<lo>-<hi>[,...]] [--max-features <n>|none] [--C <x>] [--max-iter <n>] [--seed <n>]
  [--class-weight balanced|none] [--title-rows true|false] [--nb-weight <x>] [--nb-alpha <x>]`;

function num(v: string, name: string): number {
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${name}: not a number: ${v}`);
  return x;
}

function oneOf<T extends string>(v: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name}: expected ${allowed.join('|')}, got ${v}`);
  return v as T;
}

function bool(v: string, name: string): boolean {
  return oneOf(v, ['true', 'false'], name) === 'true';
}

/** "char_wb:2-5,word:1-2" -> one tf-idf block per item. */
function tfidfBlocks(spec: string, maxFeatures: number | null): TfidfOptions[] {
  return spec.split(',').map((item) => {
    const m = /^(char|char_wb|word):(\d+)-(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`--tfidf: expected <char|char_wb|word>:<lo>-<hi>, got ${item}`);
    return { analyzer: m[1] as TfidfAnalyzer, ngramRange: [Number(m[2]), Number(m[3])], lowercase: true, sublinearTf: true, minDf: 1, maxFeatures };
  });
}

export function parseTrainOptions(argv: string[]): TrainOptions {
  try {
    return optionsFrom(argv);
  } catch (err) {
    // A mistyped flag gets its message and the usage, not a stack trace.
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

function optionsFrom(argv: string[]): TrainOptions {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      dataset: { type: 'string', default: `${COURSE}/dataset.csv` },
      holdout: { type: 'string', default: `${COURSE}/holdout.csv` },
      fresh: { type: 'string', default: 'data/fresh.csv' },
      terse: { type: 'string', default: 'data/terse.csv' },
      relabels: { type: 'string', default: 'data/relabels.csv' },
      extra: { type: 'string', default: 'data/extra.csv,data/no-topic.csv,data/extra-boundary.csv' },
      encoder: { type: 'string' },
      dtype: { type: 'string' },
      out: { type: 'string', default: '.cache/train/model' },
      store: { type: 'string', default: 'stores/blob' },
      'dvc-file': { type: 'string', default: 'stores/model.dvc' },
      'cache-dir': { type: 'string', default: '.cache/train' },
      folds: { type: 'string', default: '5' },
      'no-push': { type: 'boolean', default: false },
      features: { type: 'string', default: 'both' },
      pooling: { type: 'string', default: 'mean' },
      'embedding-weight': { type: 'string', default: '0.5' },
      tfidf: { type: 'string', default: 'char_wb:2-5,word:1-2' },
      'max-features': { type: 'string', default: '50000' },
      C: { type: 'string', default: '100' },
      'max-iter': { type: 'string', default: '500' },
      seed: { type: 'string', default: '42' },
      'class-weight': { type: 'string', default: 'balanced' },
      'title-rows': { type: 'string', default: 'true' },
      'nb-weight': { type: 'string', default: '0.5' },
      'nb-alpha': { type: 'string', default: '0.1' },
    },
  });
  if (v.help) {
    console.error(USAGE);
    process.exit(2);
  }
  const features = oneOf(v.features as string, ['both', 'embedding', 'tfidf'] as const, 'features');
  const maxFeatures = v['max-features'] === 'none' ? null : num(v['max-features'] as string, 'max-features');
  const nbWeight = num(v['nb-weight'] as string, 'nb-weight');
  const none = (x: string | undefined) => (x === undefined || x === 'none' ? null : x);
  return {
    dataset: v.dataset as string,
    holdout: v.holdout as string,
    fresh: none(v.fresh),
    terse: none(v.terse),
    relabels: none(v.relabels),
    extra: none(v.extra),
    encoder: v.encoder ?? null,
    dtype: v.dtype === undefined ? null : oneOf(v.dtype, Object.keys(ONNX_FILE_BY_DTYPE) as EncoderDtype[], 'dtype'),
    out: v.out as string,
    store: v.store as string,
    dvcFile: v['dvc-file'] as string,
    cacheDir: v['cache-dir'] as string,
    folds: num(v.folds as string, 'folds'),
    push: !v['no-push'],
    head: {
      embedding:
        features === 'tfidf'
          ? null
          : {
              pooling: oneOf(v.pooling as string, ['mean', 'sentence'] as EmbeddingPooling[], 'pooling'),
              weight: num(v['embedding-weight'] as string, 'embedding-weight'),
            },
      tfidf: features === 'embedding' ? [] : tfidfBlocks(v.tfidf as string, maxFeatures),
      C: num(v.C as string, 'C'),
      maxIter: num(v['max-iter'] as string, 'max-iter'),
      seed: num(v.seed as string, 'seed'),
      classWeight: oneOf(v['class-weight'] as string, ['balanced', 'none'] as const, 'class-weight') === 'balanced' ? 'balanced' : null,
      titleRows: bool(v['title-rows'] as string, 'title-rows'),
      naiveBayes: nbWeight > 0 ? { weight: nbWeight, alpha: num(v['nb-alpha'] as string, 'nb-alpha'), ngramRange: [1, 2] } : null,
    },
  };
}
