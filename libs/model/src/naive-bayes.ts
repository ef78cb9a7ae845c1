/**
 * Multinomial naive Bayes over non-negative sparse features (sklearn's MultinomialNB with
 * Laplace/Lidstone smoothing `alpha`). Used beside the logistic regression: counting word
 * n-grams per class generalises to fresh wording differently from a discriminative fit.
 */
import type { SparseVector } from './tfidf';

export interface NaiveBayesJSON {
  numClasses: number;
  numFeatures: number;
  alpha: number;
  classLogPrior: number[];
  /** featureLogProb[k][j] = log P(feature j | class k). */
  featureLogProb: number[][];
}

export class MultinomialNaiveBayes {
  private constructor(
    readonly alpha: number,
    private readonly classLogPrior: Float64Array,
    private readonly featureLogProb: Float64Array[],
  ) {}

  get numClasses(): number {
    return this.classLogPrior.length;
  }

  static fit(rows: SparseVector[], y: number[], numClasses: number, numFeatures: number, alpha: number): MultinomialNaiveBayes {
    if (rows.length !== y.length || rows.length === 0) throw new Error('naive Bayes fit: rows/labels mismatch or empty');
    const counts = Array.from({ length: numClasses }, () => new Float64Array(numFeatures));
    const classCount = new Float64Array(numClasses);
    rows.forEach((row, i) => {
      classCount[y[i]]++;
      for (let t = 0; t < row.indices.length; t++) counts[y[i]][row.indices[t]] += row.values[t];
    });
    const prior = Float64Array.from(classCount, (c) => Math.log(c / rows.length));
    const flp = counts.map((c) => {
      const total = c.reduce((a, b) => a + b, 0) + alpha * numFeatures;
      return Float64Array.from(c, (v) => Math.log((v + alpha) / total));
    });
    return new MultinomialNaiveBayes(alpha, prior, flp);
  }

  /** log P(class | x), normalised over the classes. */
  logPosterior(x: SparseVector): Float64Array {
    const K = this.numClasses;
    const jll = Float64Array.from(this.classLogPrior);
    for (let k = 0; k < K; k++) {
      const flp = this.featureLogProb[k];
      for (let t = 0; t < x.indices.length; t++) jll[k] += x.values[t] * flp[x.indices[t]];
    }
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, jll[k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(jll[k] - m);
    const logZ = m + Math.log(s);
    for (let k = 0; k < K; k++) jll[k] -= logZ;
    return jll;
  }

  toJSON(decimals = 5): NaiveBayesJSON {
    const f = 10 ** decimals;
    const r = (v: number) => Math.round(v * f) / f;
    return {
      numClasses: this.numClasses,
      numFeatures: this.featureLogProb[0]?.length ?? 0,
      alpha: this.alpha,
      classLogPrior: Array.from(this.classLogPrior, r),
      featureLogProb: this.featureLogProb.map((row) => Array.from(row, r)),
    };
  }

  static fromJSON(json: NaiveBayesJSON): MultinomialNaiveBayes {
    if (json.classLogPrior.length !== json.numClasses || json.featureLogProb.length !== json.numClasses) {
      throw new Error('naive Bayes JSON: class count mismatch');
    }
    if (json.featureLogProb.some((row) => row.length !== json.numFeatures)) throw new Error('naive Bayes JSON: feature count mismatch');
    return new MultinomialNaiveBayes(
      json.alpha,
      Float64Array.from(json.classLogPrior),
      json.featureLogProb.map((row) => Float64Array.from(row)),
    );
  }
}
