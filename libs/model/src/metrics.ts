export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  num_samples: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** Weighted averages (by support), as in the original tagifai performance.json. */
  overall: ClassMetrics;
  macro: ClassMetrics;
  class: Record<string, ClassMetrics>;
}

export function accuracy(yTrue: number[], yPred: number[]): number {
  if (yTrue.length !== yPred.length) throw new Error('length mismatch');
  if (yTrue.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** Per-class precision/recall/F1 (0 when undefined, like sklearn zero_division=0) plus macro/weighted averages. */
export function classificationReport(yTrue: number[], yPred: number[], labels: string[]): ClassificationReport {
  if (yTrue.length !== yPred.length) throw new Error('length mismatch');
  const k = labels.length;
  const tp = new Array<number>(k).fill(0);
  const fp = new Array<number>(k).fill(0);
  const fn = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    support[t]++;
    if (t === p) tp[t]++;
    else {
      fp[p]++;
      fn[t]++;
    }
  }
  const cls: Record<string, ClassMetrics> = {};
  const macro = { precision: 0, recall: 0, f1: 0, num_samples: yTrue.length };
  const weighted = { precision: 0, recall: 0, f1: 0, num_samples: yTrue.length };
  const n = yTrue.length || 1;
  for (let c = 0; c < k; c++) {
    const precision = tp[c] + fp[c] > 0 ? tp[c] / (tp[c] + fp[c]) : 0;
    const recall = tp[c] + fn[c] > 0 ? tp[c] / (tp[c] + fn[c]) : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    cls[labels[c]] = { precision, recall, f1, num_samples: support[c] };
    macro.precision += precision / k;
    macro.recall += recall / k;
    macro.f1 += f1 / k;
    weighted.precision += (precision * support[c]) / n;
    weighted.recall += (recall * support[c]) / n;
    weighted.f1 += (f1 * support[c]) / n;
  }
  return { accuracy: accuracy(yTrue, yPred), overall: weighted, macro, class: cls };
}
