/**
 * The steps of a training run that the levers script shares with `npm run train`: load the data,
 * embed it (cached), cross-validate, calibrate, fit the final head and measure it.
 */
import * as path from 'path';
import { classificationReport, fitTemperature, ONNX_FILE_BY_DTYPE, softmax, TextEncoder, type TagHead } from '@tagserve/model';
import { applyRelabels, EmbeddingCache, loadLabelledSet, loadRelabels, textOf, type LabelledSet } from './train-data';
import { calibration, chooseThreshold, report, round, roundReport, sliceMetrics } from './train-evaluate';
import { crossValidate, fitHead, type Embed, type Example, type HeadConfig } from './train-fit';
import type { EncoderSource } from './train-artifact';
import type { TrainOptions } from './train-options';

export const FALLBACK_TAG = 'other';

export interface TrainingData {
  labels: string[];
  sets: { dataset: LabelledSet; holdout: LabelledSet; fresh: LabelledSet | null; terse: LabelledSet | null; extra: LabelledSet | null };
  relabelled: number;
  train: Example[];
  extra: Example[];
  holdout: Example[];
  fresh: Example[];
  terse: Example[];
}

export async function loadTrainingData(o: Pick<TrainOptions, 'dataset' | 'holdout' | 'fresh' | 'terse' | 'relabels' | 'extra'>): Promise<TrainingData> {
  const [raw, holdout, fresh, terse, extraSets] = await Promise.all([
    loadLabelledSet(o.dataset),
    loadLabelledSet(o.holdout),
    o.fresh ? loadLabelledSet(o.fresh) : null,
    o.terse ? loadLabelledSet(o.terse) : null,
    Promise.all(
      (o.extra ?? '')
        .split(',')
        .filter(Boolean)
        .map((f) => loadLabelledSet(f)),
    ),
  ]);
  const extra: LabelledSet | null = extraSets.length
    ? { source: extraSets.map((s) => s.source).join('+'), md5: extraSets.map((s) => s.md5).join('+'), rows: extraSets.flatMap((s) => s.rows) }
    : null;
  const relabels = o.relabels ? loadRelabels(o.relabels) : [];
  const dataset = applyRelabels(raw, relabels);
  const labels = [...new Set(raw.rows.map((r) => r.tag))].sort();
  const examples = (set: LabelledSet | null): Example[] =>
    (set?.rows ?? []).map((r) => {
      const y = labels.indexOf(r.tag);
      if (y < 0) throw new Error(`${set?.source}: unknown tag '${r.tag}'`);
      return { text: textOf(r), title: r.title, y };
    });
  return {
    labels,
    sets: { dataset, holdout, fresh, terse, extra },
    relabelled: relabels.length,
    train: examples(dataset),
    extra: examples(extra),
    holdout: examples(holdout),
    fresh: examples(fresh),
    terse: examples(terse),
  };
}

/** Embeds every text (and title) once, through the on-disk cache; the returned lookup is synchronous. */
export async function prepareEmbeddings(encoder: EncoderSource | null, cfg: HeadConfig, cacheDir: string, data: TrainingData): Promise<Embed> {
  if (!cfg.embedding || !encoder) return () => null;
  const all = [...data.train, ...data.extra, ...data.holdout, ...data.fresh, ...data.terse];
  const texts = [...new Set([...all.map((e) => e.text), ...all.map((e) => e.title)])];
  const onnx = path.join(encoder.dir, 'onnx');
  const cache = EmbeddingCache.open(path.resolve(cacheDir), path.join(onnx, ONNX_FILE_BY_DTYPE[encoder.dtype]), cfg.embedding.pooling);
  // One intra-op thread: onnxruntime's reductions then run in one order, so embeddings are bit-identical across runs.
  const enc = await TextEncoder.load(encoder.dir, { intraOpThreads: 1, interOpThreads: 1 }, encoder.dtype, cfg.embedding.pooling);
  await cache.embed(enc, texts);
  await enc.dispose();
  cache.save();
  return (t) => cache.lookup(t);
}

export interface Evaluated {
  head: TagHead;
  temperature: number;
  threshold: number;
  holdoutProbs: number[][];
  performance: Record<string, unknown>;
  summary: {
    holdoutWeightedF1: number;
    holdoutMacroF1: number;
    cvMacroF1: [number, number];
    cvWeightedF1: [number, number];
    freshMacroF1: number | null;
    terseMacroF1: number | null;
    ece: number;
  };
}

function meanSd(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length - 1, 1))];
}

/** Cross-validation on dataset.csv (out-of-fold predictions = the validation split), then the final head on all of it. */
export function trainAndEvaluate(cfg: HeadConfig, data: TrainingData, embed: Embed, folds: number): Evaluated {
  const { labels } = data;
  const y = data.train.map((e) => e.y);
  const texts = data.train.map((e) => e.text);
  const cv = crossValidate(cfg, labels, data.train, data.extra, embed, folds);
  const perFold = Array.from({ length: folds }, (_, f) => {
    const idx = y.map((_, i) => i).filter((i) => cv.fold[i] === f);
    return classificationReport(
      idx.map((i) => y[i]),
      idx.map((i) => argmax(cv.logits[i])),
      labels,
    );
  });
  const temperature = fitTemperature(cv.logits, y);
  const { threshold, curve } = chooseThreshold(texts, cv.logits, y, labels, temperature, FALLBACK_TAG);
  const decision = { threshold, fallbackTag: FALLBACK_TAG };

  const head = fitHead(cfg, labels, [...data.train, ...data.extra], embed).withTemperature(temperature);
  const probsOf = (ex: Example[]) =>
    head.predictProba(
      ex.map((e) => e.text),
      head.embedding ? embed(ex.map((e) => e.text)) : null,
    );
  const hold = probsOf(data.holdout);
  const holdTexts = data.holdout.map((e) => e.text);
  const holdY = data.holdout.map((e) => e.y);
  const holdRep = report(holdTexts, hold, holdY, labels, decision);
  const uncalibrated = head.withTemperature(1).predictProba(holdTexts, head.embedding ? embed(holdTexts) : null);
  const checkSet = (ex: Example[]) =>
    ex.length
      ? report(
          ex.map((e) => e.text),
          probsOf(ex),
          ex.map((e) => e.y),
          labels,
          decision,
        )
      : null;
  const freshRep = checkSet(data.fresh);
  const terseRep = checkSet(data.terse);
  const validationProbs = cv.logits.map((z) => softmax(z, temperature));
  const cvMacro = meanSd(perFold.map((r) => r.macro.f1));
  const cvWeighted = meanSd(perFold.map((r) => r.overall.f1));
  const cvAccuracy = meanSd(perFold.map((r) => r.accuracy));
  const holdCalibration = calibration(hold, holdY);

  const performance = {
    // Top level: the course's holdout with the fallback applied, as /predict answers (the original's shape).
    ...roundReport(holdRep),
    // The holdout has no nlp_cnn row, so the slices are also measured on the validation predictions.
    slices: { holdout: sliceMetrics(holdTexts, hold, holdY, labels, decision), validation: sliceMetrics(texts, validationProbs, y, labels, decision) },
    calibration: {
      temperature,
      holdout: holdCalibration,
      holdout_before_temperature: calibration(uncalibrated, holdY),
      validation: calibration(validationProbs, y),
    },
    fresh: freshRep ? { source: data.sets.fresh?.source, ...roundReport(freshRep) } : null,
    terse: terseRep ? { source: data.sets.terse?.source, ...roundReport(terseRep) } : null,
    cross_validation: {
      folds,
      note: 'dataset.csv (relabelled), stratified, argmax without the fallback; mean and sd over folds',
      accuracy: { mean: round(cvAccuracy[0]), sd: round(cvAccuracy[1]) },
      macro_f1: { mean: round(cvMacro[0]), sd: round(cvMacro[1]) },
      weighted_f1: { mean: round(cvWeighted[0]), sd: round(cvWeighted[1]) },
    },
    validation: {
      note: 'out-of-fold predictions of the cross-validation: where the temperature and the threshold were chosen',
      threshold,
      threshold_curve: curve.filter(([t]) => Math.round(t * 100) % 5 === 0).map(([t, f1]) => ({ threshold: t, macro_f1: round(f1) })),
      ...roundReport(report(texts, validationProbs, y, labels, decision)),
    },
  };
  return {
    head,
    temperature,
    threshold,
    holdoutProbs: hold,
    performance,
    summary: {
      holdoutWeightedF1: holdRep.overall.f1,
      holdoutMacroF1: holdRep.macro.f1,
      cvMacroF1: cvMacro,
      cvWeightedF1: cvWeighted,
      freshMacroF1: freshRep ? freshRep.macro.f1 : null,
      terseMacroF1: terseRep ? terseRep.macro.f1 : null,
      ece: holdCalibration.ece as number,
    },
  };
}

function argmax(z: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < z.length; k++) if (z[k] > z[best]) best = k;
  return best;
}

/** args.json: every choice that produced the head, and the inputs' md5s (no timestamps: same inputs, same bytes). */
export function argsJson(o: TrainOptions, data: TrainingData, encoder: EncoderSource | null, ev: Evaluated): Record<string, unknown> {
  const h = o.head;
  return {
    text: 'title + " " + description',
    encoder:
      h.embedding && encoder
        ? { name: encoder.name, onnx: `onnx/${ONNX_FILE_BY_DTYPE[encoder.dtype]}`, pooling: h.embedding.pooling, embedding_weight: h.embedding.weight }
        : null,
    dtype: h.embedding && encoder ? encoder.dtype : null,
    tfidf: ev.head.tfidf.map((v) => ({ ...v.options, smooth_idf: true, norm: 'l2', vocabulary_size: v.vocabularySize })),
    classifier: 'multinomial logistic regression (softmax), L2, full-batch L-BFGS',
    C: h.C,
    max_iter: h.maxIter,
    class_weight: h.classWeight,
    title_rows: h.titleRows,
    naive_bayes: h.naiveBayes ? { ...h.naiveBayes, features: 'word n-grams, sublinear tf-idf' } : null,
    temperature: ev.temperature,
    threshold: ev.threshold,
    fallback_tag: FALLBACK_TAG,
    seed: h.seed,
    folds: o.folds,
    labels: data.labels,
    dataset: { source: data.sets.dataset.source, md5: data.sets.dataset.md5, num_samples: data.train.length, relabelled: data.relabelled },
    extra: data.sets.extra ? { source: data.sets.extra.source, md5: data.sets.extra.md5, num_samples: data.extra.length } : null,
    holdout: { source: data.sets.holdout.source, md5: data.sets.holdout.md5, num_samples: data.holdout.length },
    fresh: data.sets.fresh ? { source: data.sets.fresh.source, md5: data.sets.fresh.md5, num_samples: data.fresh.length } : null,
    terse: data.sets.terse ? { source: data.sets.terse.source, md5: data.sets.terse.md5, num_samples: data.terse.length } : null,
  };
}
