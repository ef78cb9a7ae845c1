import { InferenceBatcher } from './inference-batcher';

/** A fake model that records each batch it was given and takes `delayMs` per call. */
function recordingModel(delayMs = 5) {
  const batches: string[][] = [];
  const infer = async (texts: string[]) => {
    batches.push([...texts]);
    await new Promise((r) => setTimeout(r, delayMs));
    return texts.map((t) => t.toUpperCase());
  };
  return { batches, infer };
}

describe('InferenceBatcher', () => {
  it('gathers texts from concurrent callers into one batch and returns each its own results', async () => {
    const model = recordingModel();
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 32, maxWaitMs: 20 });
    const [a, b, c] = await Promise.all([batcher.predict(['a']), batcher.predict(['b', 'c']), batcher.predict(['d'])]);
    expect(a).toEqual(['A']);
    expect(b).toEqual(['B', 'C']);
    expect(c).toEqual(['D']);
    expect(model.batches).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('never exceeds the batch size and splits long requests', async () => {
    const model = recordingModel();
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 4, maxWaitMs: 5 });
    const texts = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const result = await batcher.predict(texts);
    expect(result).toEqual(texts.map((t) => t.toUpperCase()));
    expect(model.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('runs a full batch without waiting for the timer', async () => {
    const model = recordingModel(0);
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 2, maxWaitMs: 10_000 });
    const started = Date.now();
    await batcher.predict(['x', 'y']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('texts arriving during an inference go into the next batch, one inference at a time', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const sizes: number[] = [];
    const batcher = new InferenceBatcher(
      async (texts: string[]) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        sizes.push(texts.length);
        await new Promise((r) => setTimeout(r, 20));
        concurrent--;
        return texts;
      },
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    const first = batcher.predict(['a']);
    await new Promise((r) => setTimeout(r, 5));
    const rest = Promise.all([batcher.predict(['b']), batcher.predict(['c']), batcher.predict(['d'])]);
    await Promise.all([first, rest]);
    expect(maxConcurrent).toBe(1);
    expect(sizes).toEqual([1, 3]);
  });

  it('with no wait timer, gathers every text that arrives in the same event-loop turn', async () => {
    const model = recordingModel(0);
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 32, maxWaitMs: 0 });
    // Like BullMQ job replies read from one socket chunk: separate callbacks, one poll phase.
    const results = await new Promise<string[][]>((resolve) => {
      const all: Promise<string[]>[] = [];
      for (const t of ['a', 'b', 'c']) setTimeout(() => all.push(batcher.predict([t])), 0);
      setTimeout(() => void Promise.all(all).then(resolve), 0);
    });
    expect(results).toEqual([['A'], ['B'], ['C']]);
    expect(model.batches).toEqual([['a', 'b', 'c']]);
  });

  it('jobs delivered while a blocking inference runs (like onnxruntime-node) form the next batch together', async () => {
    const sizes: number[] = [];
    const batcher = new InferenceBatcher(
      (texts: string[]) =>
        new Promise<string[]>((resolve) =>
          setImmediate(() => {
            sizes.push(texts.length);
            const until = Date.now() + 20;
            while (Date.now() < until); // blocks the event loop, as a synchronous session.run does
            resolve(texts);
          }),
        ),
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    const first = batcher.predict(['a']);
    const rest = new Promise<string[][]>((resolve) =>
      setTimeout(() => void Promise.all(['b', 'c', 'd'].map((t) => batcher.predict([t]))).then(resolve), 5),
    );
    await Promise.all([first, rest]);
    expect(sizes).toEqual([1, 3]);
  });

  it('rejects every caller of a failed batch and keeps serving afterwards', async () => {
    let fail = true;
    const batcher = new InferenceBatcher(
      async (texts: string[]) => {
        if (fail) throw new Error('model exploded');
        return texts;
      },
      { maxBatchSize: 8, maxWaitMs: 1 },
    );
    await expect(Promise.all([batcher.predict(['a']), batcher.predict(['b'])])).rejects.toThrow('model exploded');
    fail = false;
    await expect(batcher.predict(['c'])).resolves.toEqual(['c']);
  });

  it('reports batch sizes to listeners', async () => {
    const batcher = new InferenceBatcher(async (t: string[]) => t, { maxBatchSize: 3, maxWaitMs: 1 });
    const seen: number[] = [];
    batcher.onBatch((s) => seen.push(s.size));
    await batcher.predict(['1', '2', '3', '4']);
    expect(seen).toEqual([3, 1]);
  });

  it('reports the backlog (texts not yet in an inference) as it grows and shrinks', async () => {
    const batcher = new InferenceBatcher(async (t: string[]) => t, { maxBatchSize: 2, maxWaitMs: 0 });
    const backlog: number[] = [];
    batcher.onBacklog((texts) => backlog.push(texts));
    await Promise.all([batcher.predict(['1', '2', '3']), batcher.predict(['4'])]);
    expect(backlog).toEqual([3, 4, 2, 0]);
  });

  it('runs a lone text with inferAlone and everything else with infer', async () => {
    const calls: string[] = [];
    const batcher = new InferenceBatcher(
      async (t: string[]) => (calls.push(`batch:${t.join(',')}`), t),
      { maxBatchSize: 8, maxWaitMs: 0 },
      async (t: string[]) => (calls.push(`alone:${t.join(',')}`), t),
    );
    await batcher.predict(['a']);
    await batcher.predict(['b', 'c']);
    await Promise.all([batcher.predict(['d']), batcher.predict(['e'])]);
    // d and e arrive in the same turn: one batch of two, in the thread.
    expect(calls).toEqual(['alone:a', 'batch:b,c', 'batch:d,e']);
  });

  it('hands the next batch to the model before resuming the callers of the finished one', async () => {
    const events: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const batcher = new InferenceBatcher(
      async (t: string[]) => {
        events.push(`infer ${t.join(',')}`);
        await sleep(10);
        return t;
      },
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    const a = batcher.predict(['a']).then(() => events.push('a resumed'));
    await sleep(3); // [a] is running
    const b = batcher.predict(['b', 'c']).then(() => events.push('b,c resumed'));
    await Promise.all([a, b]);
    expect(events).toEqual(['infer a', 'infer b,c', 'a resumed', 'b,c resumed']);
  });
});
