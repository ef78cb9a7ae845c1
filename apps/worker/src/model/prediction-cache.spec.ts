import { InferenceBatcher } from './inference-batcher';
import { PredictionCache } from './prediction-cache';

describe('PredictionCache', () => {
  it('returns what was stored for exactly that text and counts hits and misses', () => {
    const cache = new PredictionCache<string>({ maxEntries: 10, maxChars: 1000 });
    cache.set('graph neural networks', 'other');
    expect(cache.get('graph neural networks')).toBe('other');
    expect(cache.get('Graph neural networks')).toBeUndefined(); // exact: no normalisation
    expect(cache.get('graph neural networks ')).toBeUndefined();
    expect(cache.counts).toEqual({ hits: 1, misses: 2, evictions: 0 });
  });

  it('evicts the least recently used entry when full, a get refreshing an entry', () => {
    const cache = new PredictionCache<number>({ maxEntries: 2, maxChars: 1000 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // b is now the oldest
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
    expect(cache.counts.evictions).toBe(1);
  });

  it('is bounded by the characters it holds, and never holds a text longer than that bound', () => {
    const cache = new PredictionCache<number>({ maxEntries: 100, maxChars: 10 });
    cache.set('aaaa', 1);
    cache.set('bbbb', 2);
    cache.set('cccc', 3); // 12 chars > 10: 'aaaa' goes
    expect(cache.heldChars).toBe(8);
    expect(cache.get('aaaa')).toBeUndefined();
    cache.set('x'.repeat(11), 4);
    expect(cache.get('x'.repeat(11))).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('bbbb', 5); // replacing an entry does not count its characters twice
    expect(cache.heldChars).toBe(8);
  });

  it('in the batcher: a repeated text is answered without the model, a new one still goes to it', async () => {
    const batches: string[][] = [];
    const infer = async (texts: string[]) => (batches.push([...texts]), texts.map((t) => t.toUpperCase()));
    const cache = new PredictionCache<unknown>({ maxEntries: 100, maxChars: 10_000 });
    const batcher = new InferenceBatcher<string>(infer, { maxBatchSize: 16, maxWaitMs: 0, cache });
    expect(await batcher.predict(['a', 'b'])).toEqual(['A', 'B']);
    expect(await batcher.predict(['b', 'c', 'a'])).toEqual(['B', 'C', 'A']);
    expect(await batcher.predict(['a'])).toEqual(['A']);
    expect(batches).toEqual([['a', 'b'], ['c']]);
    expect(cache.counts).toMatchObject({ hits: 3, misses: 3 });
  });

  it('in the batcher: a failed inference caches nothing', async () => {
    let fail = true;
    const infer = async (texts: string[]) => {
      if (fail) throw new Error('model down');
      return texts.map((t) => t.toUpperCase());
    };
    const cache = new PredictionCache<unknown>({ maxEntries: 100, maxChars: 10_000 });
    const batcher = new InferenceBatcher<string>(infer, { maxBatchSize: 16, maxWaitMs: 0, cache });
    await expect(batcher.predict(['a'])).rejects.toThrow('model down');
    fail = false;
    expect(await batcher.predict(['a'])).toEqual(['A']);
    expect(cache.counts).toMatchObject({ hits: 0, misses: 2 });
  });
});
