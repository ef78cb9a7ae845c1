/**
 * What training measures: classification reports with the fallback applied, the slices of the
 * course's performance.json, calibration, the threshold choice and the behavioural gate.
 */
import {
  BEHAVIOURAL_CASES,
  behaviouralFailures,
  calibrationReport,
  classificationReport,
  decideTag,
  softmax,
  type ClassificationReport,
  type TagDecision,
} from '@tagserve/model';

export function round(x: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export function roundReport(rep: ClassificationReport): Record<string, unknown> {
  const r = (m: { precision: number; recall: number; f1: number; num_samples: number }) => ({
    precision: round(m.precision),
    recall: round(m.recall),
    f1: round(m.f1),
    num_samples: m.num_samples,
  });
  return {
    accuracy: round(rep.accuracy),
    overall: r(rep.overall),
    macro: r(rep.macro),
    class: Object.fromEntries(Object.entries(rep.class).map(([l, m]) => [l, r(m)])),
  };
}

/** Predicted label indices with the fallback rule applied, as the service answers. */
export function decide(texts: string[], probs: number[][], labels: string[], decision: TagDecision): number[] {
  return probs.map((p, i) => labels.indexOf(decideTag(texts[i], p, labels, decision)));
}

export function report(texts: string[], probs: number[][], y: number[], labels: string[], decision: TagDecision): ClassificationReport {
  return classificationReport(y, decide(texts, probs, labels, decision), labels);
}

/** The course's slices: short texts (< 8 words after the title), and NLP-tagged texts that mention CNNs/convolutions (nlp_cnn). */
export const SLICES: Record<string, (text: string, tag: string) => boolean> = {
  short_text: (text) => text.split(/\s+/).filter(Boolean).length < 8,
  nlp_cnn: (text, tag) => tag === 'natural-language-processing' && /\b(cnns?|convolution(al|s)?)\b/i.test(text),
};

export function sliceMetrics(texts: string[], probs: number[][], y: number[], labels: string[], decision: TagDecision): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, inSlice] of Object.entries(SLICES)) {
    const idx = texts.map((t, i) => i).filter((i) => inSlice(texts[i], labels[y[i]]));
    const rep = report(
      idx.map((i) => texts[i]),
      idx.map((i) => probs[i]),
      idx.map((i) => y[i]),
      labels,
      decision,
    );
    // Like the course: precision/recall/F1 micro-averaged over the slice (= accuracy for single-label).
    out[name] = { accuracy: round(rep.accuracy), weighted_f1: round(rep.overall.f1), num_samples: idx.length };
  }
  return out;
}

export function calibration(probs: number[][], y: number[]): Record<string, unknown> {
  const c = calibrationReport(probs, y);
  return {
    ece: round(c.ece),
    reliability: c.reliability.map((b) => ({ ...b, confidence: round(b.confidence), accuracy: round(b.accuracy) })),
  };
}

/** Within this much validation macro-F1 of the best, thresholds count as equally good (the CV's fold sd is about 0.04). */
export const THRESHOLD_TOLERANCE = 0.01;

/**
 * The fallback threshold: the highest on the grid 0.30..0.95 (step 0.01) whose validation macro-F1,
 * with the fallback applied, is within THRESHOLD_TOLERANCE of the best. Among thresholds the
 * validation cannot tell apart, the highest answers `other` when the model is unsure, as the
 * original service did.
 */
export function chooseThreshold(
  texts: string[],
  logits: Float64Array[],
  y: number[],
  labels: string[],
  temperature: number,
  fallbackTag: string,
): { threshold: number; macroF1: number; curve: [number, number][] } {
  const probs = logits.map((z) => softmax(z, temperature));
  const curve: [number, number][] = [];
  for (let t = 30; t <= 95; t++) curve.push([t / 100, report(texts, probs, y, labels, { threshold: t / 100, fallbackTag }).macro.f1]);
  const best = Math.max(...curve.map(([, f1]) => f1));
  const [threshold, macroF1] = curve.filter(([, f1]) => f1 >= best - THRESHOLD_TOLERANCE).pop() as [number, number];
  return { threshold, macroF1, curve };
}

export function behaviouralGate(predictedTags: string[]): string[] {
  return behaviouralFailures(predictedTags).map(
    (f) => `${f.case.kind}: ${JSON.stringify(f.case.text)} -> ${f.predicted}, expected ${f.case.tag} (${f.case.source})`,
  );
}

export const BEHAVIOURAL_TEXTS = BEHAVIOURAL_CASES.map((c) => c.text);
