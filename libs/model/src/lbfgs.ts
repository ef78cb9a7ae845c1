/**
 * Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex objectives such
 * as the logistic-regression loss. Deterministic: no randomness, so the same start gives the same
 * minimum bit for bit.
 */

/** Writes the gradient at `x` into `grad` and returns the objective value. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  maxIter: number;
  /** Converged when the max-abs gradient falls below this. */
  gradTol: number;
  /** History size. */
  memory: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/** Curvature pairs (s, y) of the last `memory` steps. */
class History {
  readonly s: Float64Array[] = [];
  readonly y: Float64Array[] = [];
  readonly rho: number[] = [];

  constructor(private readonly memory: number) {}

  push(s: Float64Array, y: Float64Array): void {
    const sy = dot(s, y);
    if (sy <= 1e-10) return; // not positive curvature: the pair would break the inverse-Hessian estimate
    if (this.s.length === this.memory) {
      this.s.shift();
      this.y.shift();
      this.rho.shift();
    }
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / sy);
  }

  clear(): void {
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
  }

  /** Two-loop recursion: dir = -H g. */
  direction(g: Float64Array, dir: Float64Array): void {
    const m = this.s.length;
    const alpha = new Float64Array(m);
    for (let i = 0; i < dir.length; i++) dir[i] = -g[i];
    for (let j = m - 1; j >= 0; j--) {
      alpha[j] = this.rho[j] * dot(this.s[j], dir);
      const yj = this.y[j];
      for (let i = 0; i < dir.length; i++) dir[i] -= alpha[j] * yj[i];
    }
    const scale = m > 0 ? dot(this.s[m - 1], this.y[m - 1]) / dot(this.y[m - 1], this.y[m - 1]) : 1 / Math.max(Math.sqrt(dot(g, g)), 1e-12);
    for (let i = 0; i < dir.length; i++) dir[i] *= scale;
    for (let j = 0; j < m; j++) {
      const beta = this.rho[j] * dot(this.y[j], dir);
      const sj = this.s[j];
      for (let i = 0; i < dir.length; i++) dir[i] += (alpha[j] - beta) * sj[i];
    }
  }
}

/** Halves the step from 1 until the Armijo condition holds (at most 40 times); null if it never does. */
function backtrack(f: Objective, x: Float64Array, value: number, dir: Float64Array, slope: number, xNew: Float64Array, gNew: Float64Array): number | null {
  let step = 1;
  for (let tries = 0; tries < 40; tries++) {
    for (let i = 0; i < x.length; i++) xNew[i] = x[i] + step * dir[i];
    const fNew = f(xNew, gNew);
    if (fNew <= value + 1e-4 * step * slope) return fNew;
    step *= 0.5;
  }
  return null;
}

export function minimizeLbfgs(f: Objective, x0: Float64Array, opts: LbfgsOptions): LbfgsResult {
  const P = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(P);
  let value = f(x, g);
  const history = new History(opts.memory);
  const dir = new Float64Array(P);
  const xNew = new Float64Array(P);
  const gNew = new Float64Array(P);
  let iter = 0;
  for (; iter < opts.maxIter; iter++) {
    if (maxAbs(g) < opts.gradTol) return { x, value, iterations: iter, converged: true };
    history.direction(g, dir);
    let slope = dot(g, dir);
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      history.clear();
      for (let i = 0; i < P; i++) dir[i] = -g[i];
      slope = dot(g, dir);
    }
    const fNew = backtrack(f, x, value, dir, slope, xNew, gNew);
    if (fNew === null) break;
    const s = new Float64Array(P);
    const y = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    history.push(s, y);
    const relativeDecrease = Math.abs(value - fNew) / Math.max(Math.abs(value), Math.abs(fNew), 1);
    x.set(xNew);
    g.set(gNew);
    value = fNew;
    if (relativeDecrease < 1e-12) return { x, value, iterations: iter + 1, converged: true };
  }
  return { x, value, iterations: iter, converged: false };
}
