/**
 * Probability calibration: temperature scaling (one scalar T dividing the logits, fitted by
 * minimising the negative log-likelihood on held-out predictions; Guo et al. 2017) and the
 * expected calibration error with its reliability table.
 */

export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let m = -Infinity;
  for (let k = 0; k < logits.length; k++) m = Math.max(m, logits[k] / temperature);
  const e = Array.from(logits, (z) => Math.exp(z / temperature - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function negativeLogLikelihood(logits: ArrayLike<number>[], y: number[], temperature: number): number {
  let nll = 0;
  logits.forEach((z, i) => (nll -= Math.log(Math.max(softmax(z, temperature)[y[i]], 1e-300))));
  return nll / Math.max(logits.length, 1);
}

/** Golden-section search of log T over [1/20, 20]: the NLL is unimodal in T for a fixed set of logits. */
export function fitTemperature(logits: ArrayLike<number>[], y: number[]): number {
  const f = (logT: number) => negativeLogLikelihood(logits, y, Math.exp(logT));
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(1 / 20);
  let hi = Math.log(20);
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = f(b);
    }
  }
  return Math.round(Math.exp((lo + hi) / 2) * 1e4) / 1e4;
}

export interface ReliabilityBin {
  /** Confidence range [from, to). */
  from: number;
  to: number;
  num_samples: number;
  /** Mean top probability in the bin. */
  confidence: number;
  /** Share of the bin whose top class is right. */
  accuracy: number;
}

export interface CalibrationReport {
  /** Expected calibration error: sum over bins of |accuracy - confidence| weighted by the bin's share. */
  ece: number;
  reliability: ReliabilityBin[];
}

/** ECE over `bins` equal-width bins of the top probability (the usual 10-bin top-label ECE). */
export function calibrationReport(probs: number[][], y: number[], bins = 10): CalibrationReport {
  const acc = Array.from({ length: bins }, () => ({ n: 0, conf: 0, correct: 0 }));
  probs.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    const bin = acc[Math.min(bins - 1, Math.floor(p[best] * bins))];
    bin.n++;
    bin.conf += p[best];
    if (best === y[i]) bin.correct++;
  });
  const n = Math.max(probs.length, 1);
  let ece = 0;
  const reliability = acc.map((b, j) => {
    const confidence = b.n ? b.conf / b.n : 0;
    const accuracy = b.n ? b.correct / b.n : 0;
    ece += (b.n / n) * Math.abs(accuracy - confidence);
    return { from: j / bins, to: (j + 1) / bins, num_samples: b.n, confidence, accuracy };
  });
  return { ece, reliability };
}
