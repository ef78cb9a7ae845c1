import { calibrationReport, fitTemperature, negativeLogLikelihood, softmax } from './calibration';
import { mulberry32 } from './logistic-regression';

describe('temperature scaling', () => {
  it('recovers the temperature that generated the labels', () => {
    // Labels drawn from softmax(z / 2.5): logits 2.5 times too sharp, so the fitted T is about 2.5.
    const rand = mulberry32(3);
    const logits: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const z = [0, 0, 0].map(() => (rand() - 0.5) * 12);
      const p = softmax(z, 2.5);
      const u = rand();
      y.push(u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2);
      logits.push(z);
    }
    const t = fitTemperature(logits, y);
    expect(t).toBeGreaterThan(2.2);
    expect(t).toBeLessThan(2.8);
    expect(negativeLogLikelihood(logits, y, t)).toBeLessThan(negativeLogLikelihood(logits, y, 1));
  });
});

describe('calibrationReport', () => {
  it('bins by top probability and weighs |accuracy - confidence| by the bin share', () => {
    // Two predictions at 0.95 (one right), two at 0.55 (both right).
    const probs = [
      [0.95, 0.05],
      [0.95, 0.05],
      [0.55, 0.45],
      [0.45, 0.55],
    ];
    const r = calibrationReport(probs, [0, 1, 0, 1]);
    const hi = r.reliability[9];
    const mid = r.reliability[5];
    expect(hi).toMatchObject({ num_samples: 2, accuracy: 0.5 });
    expect(hi.confidence).toBeCloseTo(0.95);
    expect(mid).toMatchObject({ num_samples: 2, accuracy: 1 });
    expect(r.ece).toBeCloseTo(0.5 * 0.45 + 0.5 * 0.45);
    expect(r.reliability.reduce((s, b) => s + b.num_samples, 0)).toBe(4);
  });
});
