import type { ChunkResult } from '@tagserve/queue';
import { evaluateChunks, modelVersions } from './bulk-evaluation';

const labels = ['a', 'b'];
const chunk = (offset: number, tags: string[], expected: string[], modelVersion = 'v1'): ChunkResult => ({
  offset,
  texts: tags.map((_, i) => `t${offset + i}`),
  labels,
  tags,
  probabilities: tags.map((tag) => (tag === 'a' ? [1, 0] : [0, 1])),
  expected,
  modelVersion,
  worker: 'w',
});

describe('evaluateChunks', () => {
  it('scores every chunk together, per class and weighted overall', () => {
    // Expected a a b b, predicted a b b b: class a P=1 R=0.5, class b P=2/3 R=1.
    const report = evaluateChunks([chunk(0, ['a', 'b'], ['a', 'a']), chunk(2, ['b', 'b'], ['b', 'b'])]);
    expect(report.accuracy).toBe(0.75);
    expect(report.class.a).toEqual({ precision: 1, recall: 0.5, f1: 2 / 3, num_samples: 2 });
    expect(report.class.b.precision).toBeCloseTo(2 / 3);
    expect(report.class.b.recall).toBe(1);
    expect(report.overall.num_samples).toBe(4);
    expect(report.overall.recall).toBe(0.75);
    expect(report.num_unknown_tags).toBe(0);
  });

  it('counts expected tags the model does not know apart instead of scoring them', () => {
    const report = evaluateChunks([chunk(0, ['a', 'b', 'a'], ['a', 'robotics', 'a'])]);
    expect(report.num_unknown_tags).toBe(1);
    expect(report.overall.num_samples).toBe(2);
    expect(report.accuracy).toBe(1);
  });

  it('names every model version that answered, once, in order', () => {
    expect(modelVersions([chunk(0, ['a'], ['a'], 'v1'), chunk(1, ['a'], ['a'], 'v2'), chunk(2, ['a'], ['a'], 'v1')])).toEqual(['v1', 'v2']);
  });
});
