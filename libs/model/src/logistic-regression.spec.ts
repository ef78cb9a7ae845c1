import { TfidfVectorizer } from './tfidf';
import { LogisticRegression, type FeatureRow } from './logistic-regression';
import { accuracy, classificationReport } from './metrics';

function toyProblem(): { rows: FeatureRow[]; y: number[] } {
  // Three well-separated 2-D clusters.
  const centres = [
    [3, 0],
    [-3, 0],
    [0, 3],
  ];
  const rows: FeatureRow[] = [];
  const y: number[] = [];
  let s = 1;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.8;
  centres.forEach((c, k) => {
    for (let i = 0; i < 20; i++) {
      rows.push({ dense: Float32Array.from([c[0] + noise(), c[1] + noise()]) });
      y.push(k);
    }
  });
  return { rows, y };
}

describe('LogisticRegression', () => {
  it('learns a separable problem; probabilities sum to 1', () => {
    const { rows, y } = toyProblem();
    const lr = new LogisticRegression();
    const res = lr.fit(rows, y, 3, { denseDim: 2, sparseDim: 0 }, { C: 10, seed: 1 });
    expect(res.converged).toBe(true);
    expect(accuracy(y, lr.predict(rows))).toBe(1);
    for (const p of lr.predictProba(rows)) {
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
      p.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
    }
    expect(lr.predict([{ dense: [0, 10] }])).toEqual([2]);
  });

  it('is deterministic for a seed and round-trips JSON', () => {
    const { rows, y } = toyProblem();
    const a = new LogisticRegression();
    a.fit(rows, y, 3, { denseDim: 2, sparseDim: 0 }, { seed: 7 });
    const b = new LogisticRegression();
    b.fit(rows, y, 3, { denseDim: 2, sparseDim: 0 }, { seed: 7 });
    expect(a.toJSON()).toEqual(b.toJSON());
    const c = LogisticRegression.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    const pa = a.predictProba(rows);
    c.predictProba(rows).forEach((p, i) => p.forEach((x, k) => expect(x).toBeCloseTo(pa[i][k], 4)));
  });

  it('sample weights shift the boundary towards the lighter class', () => {
    // Two overlapping 1-D classes; weighting class 1 five times moves the 0.5 point of P(class 1) left.
    const rows: FeatureRow[] = [-2, -1, 0, 1, -1, 0, 1, 2].map((v) => ({ dense: [v] }));
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const plain = new LogisticRegression();
    plain.fit(rows, y, 2, { denseDim: 1, sparseDim: 0 }, { C: 10 });
    const weighted = new LogisticRegression();
    weighted.fit(
      rows,
      y,
      2,
      { denseDim: 1, sparseDim: 0 },
      { C: 10 },
      y.map((k) => (k === 1 ? 5 : 1)),
    );
    const at = (lr: LogisticRegression) => lr.predictProbaOne({ dense: [0] })[1];
    expect(at(plain)).toBeCloseTo(0.5, 2);
    expect(at(weighted)).toBeGreaterThan(0.75);
    expect(() => plain.fit(rows, y, 2, { denseDim: 1, sparseDim: 0 }, {}, [1])).toThrow(/sampleWeight/);
  });

  it('trains on concatenated dense + sparse tf-idf features', () => {
    const texts = ['image segmentation cnn', 'object detection images', 'text classification bert', 'language model text'];
    const y = [0, 0, 1, 1];
    const tf = new TfidfVectorizer({ analyzer: 'char_wb', ngramRange: [2, 4] }).fit(texts);
    const rows = texts.map((t, i) => ({ dense: [y[i] === 0 ? 0.1 : -0.1], sparse: tf.transformOne(t) }));
    const lr = new LogisticRegression();
    lr.fit(rows, y, 2, { denseDim: 1, sparseDim: tf.vocabularySize }, { C: 100 });
    expect(lr.predict([{ dense: [0], sparse: tf.transformOne('images of objects') }])).toEqual([0]);
    expect(lr.predict([{ dense: [0], sparse: tf.transformOne('text language') }])).toEqual([1]);
  });
});

describe('metrics', () => {
  it('computes per-class, macro and weighted figures (sklearn zero_division=0)', () => {
    const yTrue = [0, 0, 0, 1, 1, 2];
    const yPred = [0, 0, 1, 1, 0, 1];
    const r = classificationReport(yTrue, yPred, ['a', 'b', 'c']);
    expect(r.accuracy).toBeCloseTo(3 / 6);
    expect(r.class.a).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: expect.closeTo(2 / 3, 10), num_samples: 3 });
    expect(r.class.b.precision).toBeCloseTo(1 / 3);
    expect(r.class.b.recall).toBeCloseTo(1 / 2);
    expect(r.class.b.f1).toBeCloseTo(0.4);
    expect(r.class.c).toEqual({ precision: 0, recall: 0, f1: 0, num_samples: 1 });
    expect(r.macro.f1).toBeCloseTo((2 / 3 + 0.4 + 0) / 3);
    expect(r.overall.f1).toBeCloseTo((3 * (2 / 3) + 2 * 0.4) / 6);
    expect(r.overall.num_samples).toBe(6);
  });
});
