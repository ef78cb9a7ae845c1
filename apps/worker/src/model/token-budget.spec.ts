import { InferenceBatcher } from './inference-batcher';
import { takeByTokenBudget } from './token-budget';

const item = (text: string) => ({ text });
/** Token count = the text's length, so tests read directly. */
const len = (text: string) => text.length;

describe('takeByTokenBudget', () => {
  it('takes the oldest text, then the ones closest to it in length, within the padded budget', () => {
    const pending = ['x'.repeat(40), 'y'.repeat(5), 'z'.repeat(38), 'w'.repeat(6), 'v'.repeat(41)].map(item);
    const batch = takeByTokenBudget(pending, 16, 3 * 41, len);
    expect(batch.map((b) => b.text.length)).toEqual([40, 38, 41]); // queue order kept
    expect(pending.map((p) => p.text.length)).toEqual([5, 6]);
    expect(takeByTokenBudget(pending, 16, 3 * 41, len).map((b) => b.text.length)).toEqual([5, 6]);
    expect(pending).toEqual([]);
  });

  it('skips a text that would break the budget but keeps looking for shorter ones', () => {
    const pending = ['a'.repeat(10), 'b'.repeat(30), 'c'.repeat(9)].map(item);
    // 10 then 9 (closest), 30 would make 3 × 30 = 90 > 40
    expect(takeByTokenBudget(pending, 16, 40, len).map((b) => b.text.length)).toEqual([10, 9]);
  });

  it('always takes the oldest text, even alone over budget, and honours maxSize', () => {
    const long = [item('q'.repeat(100)), item('r')];
    expect(takeByTokenBudget(long, 16, 50, len).map((b) => b.text.length)).toEqual([100]);
    const many = Array.from({ length: 10 }, () => item('same'));
    expect(takeByTokenBudget(many, 4, 1000, len)).toHaveLength(4);
    expect(many).toHaveLength(6);
  });

  it('in the batcher: with maxBatchTokens, the texts waiting during an inference are grouped by length', async () => {
    const calls: { texts: string[]; release: () => void }[] = [];
    const infer = (texts: string[]) => new Promise<string[]>((resolve) => calls.push({ texts: [...texts], release: () => resolve(texts) }));
    // ~3.5 chars per token: 140 chars ≈ 41 tokens, 14 chars ≈ 5; budget of two long texts
    const long = (c: string) => c.repeat(140);
    const short = (c: string) => c.repeat(14);
    const batcher = new InferenceBatcher<string>(infer, { maxBatchSize: 16, maxWaitMs: 0, maxBatchTokens: 2 * 41 });
    const first = batcher.predict(['first']);
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1); // running: the next texts wait and are grouped when it ends
    const rest = Promise.all([long('a'), short('b'), long('c'), short('d')].map((t) => batcher.predict([t])));
    calls[0].release();
    await first;
    for (let turn = 0; turn < 100 && calls.length < 2; turn++) await new Promise((r) => setImmediate(r));
    expect(calls[1].texts).toEqual([long('a'), long('c')]);
    calls[1].release();
    for (let turn = 0; turn < 100 && calls.length < 3; turn++) await new Promise((r) => setImmediate(r));
    expect(calls[2].texts).toEqual([short('b'), short('d')]);
    calls[2].release();
    expect(await rest).toEqual([[long('a')], [short('b')], [long('c')], [short('d')]]);
  });
});
