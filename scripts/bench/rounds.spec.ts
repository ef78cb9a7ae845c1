import { interleavedRounds, roundRatios } from './rounds';

describe('interleavedRounds', () => {
  it('runs every target once a round, not always in the same order, and a ratio within a round cancels slow drift', async () => {
    // The machine slows by 5 % a round: ten phases of a and then ten of b would read
    // b/a = (150 x 0.65) / (100 x 0.9) = 1.08, not the 1.5 built in. Within a round the drift is shared.
    let calls = 0;
    const speed = () => 1 - Math.floor(calls++ / 2) / 20;
    const order: string[] = [];
    const targets = [
      { name: 'a', run: async () => (order.push('a'), 100 * speed()) },
      { name: 'b', run: async () => (order.push('b'), 150 * speed()) },
    ];
    const rounds = 10;
    const results = await interleavedRounds(targets, rounds);
    expect(results.get('a')).toHaveLength(rounds);
    for (let r = 0; r < rounds; r++) expect(order.slice(2 * r, 2 * r + 2).sort()).toEqual(['a', 'b']);
    // 2^-10 that ten fair shuffles of two all come out the same.
    expect(new Set(Array.from({ length: rounds }, (_, r) => order[2 * r])).size).toBe(2);
    const ratio = roundRatios(results.get('b')!, results.get('a')!);
    expect(ratio.median).toBeCloseTo(1.5, 10);
    expect(ratio.min).toBeCloseTo(1.5, 10);
  });
});

describe('roundRatios', () => {
  it('takes the ratio round by round, then the median and the range', () => {
    // Per round: 2, 1.5, 3, 1 -> sorted 1, 1.5, 2, 3 -> median (1.5 + 2) / 2.
    expect(roundRatios([4, 3, 9, 5], [2, 2, 3, 5])).toEqual({ median: 1.75, min: 1, max: 3, perRound: [2, 1.5, 3, 1] });
    expect(roundRatios([3, 10, 8], [1, 2, 2])).toMatchObject({ median: 4, min: 3, max: 5 });
  });

  it('refuses sides of different lengths', () => {
    expect(() => roundRatios([1, 2], [1])).toThrow('one figure per round');
    expect(() => roundRatios([], [])).toThrow('one figure per round');
  });
});
