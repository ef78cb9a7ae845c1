import { deadlinePassed, groupRequests } from './prediction-job';

const req = (n: number, id = String(n)) => ({ id, texts: Array.from({ length: n }, (_, i) => `${id}-${i}`) });

describe('groupRequests', () => {
  it('packs whole requests, in order, up to the text limit', () => {
    const groups = groupRequests([req(3, 'a'), req(2, 'b'), req(4, 'c'), req(1, 'd')], 5);
    expect(groups.map((g) => g.map((r) => r.id))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('gives a request larger than the limit a job of its own, never splitting it', () => {
    const groups = groupRequests([req(1, 'a'), req(9, 'big'), req(1, 'b')], 4);
    expect(groups.map((g) => g.map((r) => r.id))).toEqual([['a'], ['big'], ['b']]);
  });

  it('returns no groups for no requests', () => {
    expect(groupRequests([], 8)).toEqual([]);
  });
});

describe('deadlinePassed', () => {
  it('is true only once a deadline has passed', () => {
    expect(deadlinePassed({ deadline: 1000 }, 999)).toBe(false);
    expect(deadlinePassed({ deadline: 1000 }, 1000)).toBe(false);
    expect(deadlinePassed({ deadline: 1000 }, 1001)).toBe(true);
  });

  it('never expires a job without a (valid) deadline', () => {
    expect(deadlinePassed({}, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(deadlinePassed(undefined)).toBe(false);
    expect(deadlinePassed({ deadline: Number.NaN }, 5)).toBe(false);
    expect(deadlinePassed({ deadline: '1' as unknown as number }, 5)).toBe(false);
  });
});
