/**
 * Multinomial (softmax) logistic regression with L2 penalty, trained full-batch with L-BFGS.
 * Objective (sklearn convention): sum_i CE(y_i, softmax(W x_i + b)) + ||W||^2 / (2C); the bias
 * is not penalised. Inputs are rows of [dense block | sparse block]: a dense Float32Array of
 * `denseDim` values (may be 0) followed by a sparse vector over `sparseDim` columns.
 * Deterministic: the seed only drives the (tiny) random initialisation.
 */
import type { SparseVector } from './char-tfidf';

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

  private static softmaxInPlace(z: Float64Array): void {
    let m = -Infinity;
    for (let k = 0; k < z.length; k++) if (z[k] > m) m = z[k];
    let s = 0;
    for (let k = 0; k < z.length; k++) {
      z[k] = Math.exp(z[k] - m);
      s += z[k];
    }
    for (let k = 0; k < z.length; k++) z[k] /= s;
  }

  fit(
    rows: FeatureRow[],
    y: number[],
    numClasses: number,
    dims: { denseDim: number; sparseDim: number },
    opts: Partial<LogisticRegressionOptions> = {},
  ): TrainResult {
    const o = { ...DEFAULT_LR_OPTIONS, ...opts };
    if (rows.length !== y.length || rows.length === 0) throw new Error('fit: rows/labels mismatch or empty');
    this.numClasses = numClasses;
    this.denseDim = dims.denseDim;
    this.sparseDim = dims.sparseDim;
    const K = numClasses;
    const d = this.dim;
    const nW = K * d;
    const P = nW + K;
    const n = rows.length;
    const rand = mulberry32(o.seed);
    const x = new Float64Array(P);
    for (let i = 0; i < nW; i++) x[i] = (rand() - 0.5) * 1e-3;
    const lam = 1 / o.C;
    const z = new Float64Array(K);

    const evaluate = (theta: Float64Array, grad: Float64Array): number => {
      grad.fill(0);
      const W = theta.subarray(0, nW);
      const b = theta.subarray(nW);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        this.logitsInto(row, W as Float64Array, b as Float64Array, z);
        LogisticRegression.softmaxInPlace(z);
        loss -= Math.log(Math.max(z[y[i]], 1e-300));
        for (let k = 0; k < K; k++) {
          const g = z[k] - (k === y[i] ? 1 : 0);
          if (g === 0) continue;
          const base = k * d;
          const dense = row.dense;
          if (dense && this.denseDim > 0) for (let j = 0; j < this.denseDim; j++) grad[base + j] += g * dense[j];
          const sp = row.sparse;
          if (sp) {
            const off = base + this.denseDim;
            for (let t = 0; t < sp.indices.length; t++) grad[off + sp.indices[t]] += g * sp.values[t];
          }
          grad[nW + k] += g;
        }
      }
      let reg = 0;
      for (let j = 0; j < nW; j++) {
        reg += theta[j] * theta[j];
        grad[j] += lam * theta[j];
      }
      return loss + 0.5 * lam * reg;
    };

    // L-BFGS with backtracking (Armijo) line search.
    const g = new Float64Array(P);
    let f = evaluate(x, g);
    const S: Float64Array[] = [];
    const Yh: Float64Array[] = [];
    const rho: number[] = [];
    const dir = new Float64Array(P);
    const xNew = new Float64Array(P);
    const gNew = new Float64Array(P);
    const alpha = new Float64Array(o.memory);
    let iter = 0;
    let converged = false;
    const maxAbs = (v: Float64Array) => {
      let m = 0;
      for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
      return m;
    };
    const dot = (a: Float64Array, c: Float64Array) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * c[i];
      return s;
    };
    for (; iter < o.maxIter; iter++) {
      if (maxAbs(g) / n < o.tol) {
        converged = true;
        break;
      }
      // Two-loop recursion: dir = -H g.
      for (let i = 0; i < P; i++) dir[i] = -g[i];
      const m = S.length;
      for (let j = m - 1; j >= 0; j--) {
        alpha[j] = rho[j] * dot(S[j], dir);
        const yj = Yh[j];
        for (let i = 0; i < P; i++) dir[i] -= alpha[j] * yj[i];
      }
      if (m > 0) {
        const gamma = dot(S[m - 1], Yh[m - 1]) / dot(Yh[m - 1], Yh[m - 1]);
        for (let i = 0; i < P; i++) dir[i] *= gamma;
      } else {
        const gn = Math.sqrt(dot(g, g));
        for (let i = 0; i < P; i++) dir[i] /= Math.max(gn, 1e-12);
      }
      for (let j = 0; j < m; j++) {
        const beta = rho[j] * dot(Yh[j], dir);
        const sj = S[j];
        for (let i = 0; i < P; i++) dir[i] += (alpha[j] - beta) * sj[i];
      }
      let gd = dot(g, dir);
      if (gd >= 0) {
        // Not a descent direction: reset to steepest descent.
        S.length = 0;
        Yh.length = 0;
        rho.length = 0;
        for (let i = 0; i < P; i++) dir[i] = -g[i];
        gd = dot(g, dir);
      }
      let step = 1;
      let fNew = 0;
      let accepted = false;
      for (let ls = 0; ls < 40; ls++) {
        for (let i = 0; i < P; i++) xNew[i] = x[i] + step * dir[i];
        fNew = evaluate(xNew, gNew);
        if (fNew <= f + 1e-4 * step * gd) {
          accepted = true;
          break;
        }
        step *= 0.5;
      }
      if (!accepted) break;
      const s = new Float64Array(P);
      const yv = new Float64Array(P);
      for (let i = 0; i < P; i++) {
        s[i] = xNew[i] - x[i];
        yv[i] = gNew[i] - g[i];
      }
      const sy = dot(s, yv);
      if (sy > 1e-10) {
        if (S.length === o.memory) {
          S.shift();
          Yh.shift();
          rho.shift();
        }
        S.push(s);
        Yh.push(yv);
        rho.push(1 / sy);
      }
      const rel = Math.abs(f - fNew) / Math.max(Math.abs(f), Math.abs(fNew), 1);
      x.set(xNew);
      g.set(gNew);
      f = fNew;
      if (rel < 1e-12) {
        converged = true;
        iter++;
        break;
      }
    }
    this.W = x.slice(0, nW);
    this.b = x.slice(nW);
    return { iterations: iter, loss: f, converged };
  }

  predictProbaOne(row: FeatureRow): number[] {
    const z = new Float64Array(this.numClasses);
    this.logitsInto(row, this.W, this.b, z);
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
