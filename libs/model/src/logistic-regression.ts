/**
 * Multinomial (softmax) logistic regression with L2 penalty, trained full-batch with L-BFGS.
 * Objective (sklearn convention): sum_i w_i CE(y_i, softmax(W x_i + b)) + ||W||^2 / (2C); the bias
 * is not penalised. Inputs are rows of [dense block | sparse block]: a dense Float32Array of
 * `denseDim` values (may be 0) followed by a sparse vector over `sparseDim` columns.
 * Deterministic: the seed only drives the (tiny) random initialisation.
 */
import { minimizeLbfgs, type Objective } from './lbfgs';
import type { SparseVector } from './tfidf';

export interface FeatureRow {
  dense?: Float32Array | number[];
  sparse?: SparseVector;
}

export interface LogisticRegressionOptions {
  /** Inverse L2 strength (sklearn's C). */
  C: number;
  maxIter: number;
  /** Stop when the max-abs gradient (divided by n) falls below this. */
  tol: number;
  /** L-BFGS history size. */
  memory: number;
  seed: number;
}

export interface LogisticRegressionJSON {
  numClasses: number;
  denseDim: number;
  sparseDim: number;
  /** weights[k] has denseDim + sparseDim entries. */
  weights: number[][];
  bias: number[];
}

export interface TrainResult {
  iterations: number;
  loss: number;
  converged: boolean;
}

export const DEFAULT_LR_OPTIONS: LogisticRegressionOptions = { C: 10, maxIter: 500, tol: 1e-5, memory: 10, seed: 42 };

/** mulberry32 PRNG: deterministic floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function roundSig(v: number, digits: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  return Number(v.toPrecision(digits));
}

export class LogisticRegression {
  numClasses = 0;
  denseDim = 0;
  sparseDim = 0;
  /** Row-major K x (denseDim + sparseDim). */
  private W: Float64Array = new Float64Array(0);
  private b: Float64Array = new Float64Array(0);

  get dim(): number {
    return this.denseDim + this.sparseDim;
  }

  private logitsInto(row: FeatureRow, W: Float64Array, b: Float64Array, out: Float64Array): void {
    const K = this.numClasses;
    const d = this.dim;
    const D = this.denseDim;
    for (let k = 0; k < K; k++) {
      let s = b[k];
      const base = k * d;
      const dense = row.dense;
      if (dense && D > 0) for (let j = 0; j < D; j++) s += W[base + j] * dense[j];
      const sp = row.sparse;
      if (sp) {
        const off = base + D;
        for (let t = 0; t < sp.indices.length; t++) s += W[off + sp.indices[t]] * sp.values[t];
      }
      out[k] = s;
    }
  }

  static softmaxInPlace(z: Float64Array): void {
    let m = -Infinity;
    for (let k = 0; k < z.length; k++) if (z[k] > m) m = z[k];
    let s = 0;
    for (let k = 0; k < z.length; k++) {
      z[k] = Math.exp(z[k] - m);
      s += z[k];
    }
    for (let k = 0; k < z.length; k++) z[k] /= s;
  }

  /**
   * Fits the weights. `sampleWeight` (default 1 per row) scales each row's loss term, which is how
   * class weights are applied.
   */
  fit(
    rows: FeatureRow[],
    y: number[],
    numClasses: number,
    dims: { denseDim: number; sparseDim: number },
    opts: Partial<LogisticRegressionOptions> = {},
    sampleWeight?: number[],
  ): TrainResult {
    const o = { ...DEFAULT_LR_OPTIONS, ...opts };
    if (rows.length !== y.length || rows.length === 0) throw new Error('fit: rows/labels mismatch or empty');
    if (sampleWeight && sampleWeight.length !== rows.length) throw new Error('fit: sampleWeight length mismatch');
    this.numClasses = numClasses;
    this.denseDim = dims.denseDim;
    this.sparseDim = dims.sparseDim;
    const objective = this.penalisedLoss(rows, y, sampleWeight ?? null, 1 / o.C);
    const res = minimizeLbfgs(objective, this.initialParameters(o.seed), { maxIter: o.maxIter, gradTol: o.tol * rows.length, memory: o.memory });
    this.setParameters(res.x);
    return { iterations: res.iterations, loss: res.value, converged: res.converged };
  }

  /** Tiny seeded random weights (zero bias): breaks the symmetry between classes. */
  private initialParameters(seed: number): Float64Array {
    const nW = this.numClasses * this.dim;
    const rand = mulberry32(seed);
    const theta = new Float64Array(nW + this.numClasses);
    for (let i = 0; i < nW; i++) theta[i] = (rand() - 0.5) * 1e-3;
    return theta;
  }

  private setParameters(theta: Float64Array): void {
    const nW = this.numClasses * this.dim;
    this.W = theta.slice(0, nW);
    this.b = theta.slice(nW);
  }

  /** Weighted cross-entropy + L2 on the weights (not the bias), over theta = [W row-major | b]. */
  private penalisedLoss(rows: FeatureRow[], y: number[], sampleWeight: number[] | null, lam: number): Objective {
    const K = this.numClasses;
    const nW = K * this.dim;
    const z = new Float64Array(K);
    return (theta, grad) => {
      grad.fill(0);
      const W = theta.subarray(0, nW);
      const b = theta.subarray(nW);
      let loss = 0;
      for (let i = 0; i < rows.length; i++) {
        const w = sampleWeight ? sampleWeight[i] : 1;
        this.logitsInto(rows[i], W, b, z);
        LogisticRegression.softmaxInPlace(z);
        loss -= w * Math.log(Math.max(z[y[i]], 1e-300));
        for (let k = 0; k < K; k++) z[k] = w * (z[k] - (k === y[i] ? 1 : 0));
        this.addOuterProduct(rows[i], z, grad);
      }
      let reg = 0;
      for (let j = 0; j < nW; j++) {
        reg += theta[j] * theta[j];
        grad[j] += lam * theta[j];
      }
      return loss + 0.5 * lam * reg;
    };
  }

  /** grad[W_k] += g[k] * row for every class k, grad[b_k] += g[k]. */
  private addOuterProduct(row: FeatureRow, g: Float64Array, grad: Float64Array): void {
    const d = this.dim;
    const D = this.denseDim;
    const nW = this.numClasses * d;
    for (let k = 0; k < g.length; k++) {
      const gk = g[k];
      if (gk === 0) continue;
      const base = k * d;
      const dense = row.dense;
      if (dense && D > 0) for (let j = 0; j < D; j++) grad[base + j] += gk * dense[j];
      const sp = row.sparse;
      if (sp) for (let t = 0; t < sp.indices.length; t++) grad[base + D + sp.indices[t]] += gk * sp.values[t];
      grad[nW + k] += gk;
    }
  }

  /** Raw class scores W x + b, before the softmax. */
  logits(row: FeatureRow): Float64Array {
    const z = new Float64Array(this.numClasses);
    this.logitsInto(row, this.W, this.b, z);
    return z;
  }

  predictProbaOne(row: FeatureRow): number[] {
    const z = this.logits(row);
    LogisticRegression.softmaxInPlace(z);
    return Array.from(z);
  }

  predictProba(rows: FeatureRow[]): number[][] {
    return rows.map((r) => this.predictProbaOne(r));
  }

  predict(rows: FeatureRow[]): number[] {
    return this.predictProba(rows).map((p) => p.indexOf(Math.max(...p)));
  }

  toJSON(significantDigits = 6): LogisticRegressionJSON {
    const d = this.dim;
    const weights: number[][] = [];
    for (let k = 0; k < this.numClasses; k++) {
      weights.push(Array.from(this.W.subarray(k * d, (k + 1) * d), (v) => roundSig(v, significantDigits)));
    }
    return {
      numClasses: this.numClasses,
      denseDim: this.denseDim,
      sparseDim: this.sparseDim,
      weights,
      bias: Array.from(this.b, (v) => roundSig(v, significantDigits)),
    };
  }

  static fromJSON(json: LogisticRegressionJSON): LogisticRegression {
    const lr = new LogisticRegression();
    lr.numClasses = json.numClasses;
    lr.denseDim = json.denseDim;
    lr.sparseDim = json.sparseDim;
    const d = lr.dim;
    if (json.weights.length !== json.numClasses || json.bias.length !== json.numClasses) {
      throw new Error('logistic regression JSON: class count mismatch');
    }
    lr.W = new Float64Array(json.numClasses * d);
    json.weights.forEach((w, k) => {
      if (w.length !== d) throw new Error('logistic regression JSON: weight row length mismatch');
      lr.W.set(w, k * d);
    });
    lr.b = Float64Array.from(json.bias);
    return lr;
  }
}
