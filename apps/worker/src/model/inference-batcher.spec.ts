import { INTERACTIVE_WINDOW_MS, InferenceBatcher } from './inference-batcher';

/** A fake model that records each batch it was given and answers at once. */
function recordingModel() {
  const batches: string[][] = [];
  const infer = async (texts: string[]) => {
    batches.push([...texts]);
    return texts.map((t) => t.toUpperCase());
  };
  return { batches, infer };
}

interface HeldCall {
  texts: string[];
  release: () => void;
  fail: (err: Error) => void;
}

/**
 * A fake model whose every call waits until the test releases it, so which texts form a batch
 * depends only on the order of events, never on how fast the machine is.
 */
function heldModel() {
  const calls: HeldCall[] = [];
  const infer = (texts: string[]) => new Promise<string[]>((resolve, reject) => calls.push({ texts: [...texts], release: () => resolve(texts), fail: reject }));
  return { calls, infer };
}

/** One macrotask turn: the batcher yields with setImmediate before its first batch. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits turn by turn until `condition` holds; 100 turns is far more than any path here takes (at most 3). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    if (condition()) return;
    await nextTurn();
  }
  throw new Error(`not within 100 event-loop turns: ${what}`);
}

describe('InferenceBatcher', () => {
  afterEach(() => jest.useRealTimers());

  /** Only setTimeout/setInterval/Date are faked: the batcher's setImmediate yield and promises stay real. */
  const fakeTimersOnly = () => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });

  it('gathers texts from concurrent callers into one batch and returns each its own results', async () => {
    fakeTimersOnly();
    const model = recordingModel();
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 32, maxWaitMs: 20 });
    const all = Promise.all([batcher.predict(['a']), batcher.predict(['b', 'c']), batcher.predict(['d'])]);
    jest.advanceTimersByTime(19);
    for (let i = 0; i < 3; i++) await nextTurn();
    expect(model.batches).toEqual([]); // still held back for company
    jest.advanceTimersByTime(1);
    const [a, b, c] = await all;
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
    fakeTimersOnly();
    const model = recordingModel();
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 2, maxWaitMs: 10_000 });
    const started = Date.now();
    // The fake clock never moves: a result can only come if no timer was waited for.
    await expect(batcher.predict(['x', 'y'])).resolves.toEqual(['X', 'Y']);
    expect(Date.now() - started).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('texts arriving during an inference go into the next batch, one inference at a time', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const model = heldModel();
    const batcher = new InferenceBatcher(
      async (texts: string[]) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        try {
          return await model.infer(texts);
        } finally {
          concurrent--;
        }
      },
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    const first = batcher.predict(['a']);
    await turnsUntil(() => model.calls.length === 1, '[a] reaches the model');
    const rest = Promise.all([batcher.predict(['b']), batcher.predict(['c']), batcher.predict(['d'])]);
    for (let i = 0; i < 3; i++) await nextTurn();
    expect(model.calls).toHaveLength(1); // b, c, d wait while [a] runs
    model.calls[0].release();
    await turnsUntil(() => model.calls.length === 2, 'the next batch reaches the model');
    model.calls[1].release();
    await Promise.all([first, rest]);
    expect(maxConcurrent).toBe(1);
    expect(model.calls.map((c) => c.texts.length)).toEqual([1, 3]);
  });

  it('with no wait timer, gathers every text that arrives in the same event-loop turn', async () => {
    const model = recordingModel();
    const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 32, maxWaitMs: 0 });
    // Like BullMQ job replies read from one socket chunk: separate callbacks, one timers phase
    // (timers set in the same turn with the same delay expire together).
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
    let rest: Promise<string[][]> | undefined;
    const batcher = new InferenceBatcher(
      (texts: string[]) =>
        new Promise<string[]>((resolve) =>
          setImmediate(() => {
            sizes.push(texts.length);
            if (!rest) {
              // Three jobs arrive while the loop is blocked: three callbacks, all due once it is free.
              const delivered = ['b', 'c', 'd'].map((t) => new Promise<string[]>((r) => setTimeout(() => r(batcher.predict([t])), 0)));
              rest = Promise.all(delivered);
            }
            const until = Date.now() + 20;
            while (Date.now() < until); // blocks the event loop, as a synchronous session.run does
            resolve(texts);
          }),
        ),
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    await batcher.predict(['a']);
    await turnsUntil(() => rest !== undefined, 'the jobs are delivered');
    await rest;
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
    const model = heldModel();
    const batcher = new InferenceBatcher(
      (t: string[]) => {
        events.push(`infer ${t.join(',')}`);
        return model.infer(t);
      },
      { maxBatchSize: 8, maxWaitMs: 0 },
    );
    const a = batcher.predict(['a']).then(() => events.push('a resumed'));
    await turnsUntil(() => model.calls.length === 1, '[a] is running');
    const b = batcher.predict(['b', 'c']).then(() => events.push('b,c resumed'));
    model.calls[0].release();
    await turnsUntil(() => model.calls.length === 2, '[b, c] reaches the model');
    model.calls[1].release();
    await Promise.all([a, b]);
    expect(events).toEqual(['infer a', 'infer b,c', 'a resumed', 'b,c resumed']);
  });

  describe('lanes: interactive (/predict) texts before bulk (job chunk) texts', () => {
    it('an interactive text queued behind bulk texts goes into the next inference, alone with its lane', async () => {
      const model = heldModel();
      const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 8, maxWaitMs: 0, maxBulkBatchSize: 2 });
      const bulk = batcher.predict(['b1', 'b2', 'b3', 'b4', 'b5', 'b6'], 'bulk');
      await turnsUntil(() => model.calls.length === 1, 'the first bulk batch is running');
      // No interactive text seen yet: a bulk job alone gets full batches.
      expect(model.calls[0].texts).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
      const later = batcher.predict(['b7', 'b8', 'b9'], 'bulk');
      const interactive = batcher.predict(['i1', 'i2']);
      model.calls[0].release();
      await turnsUntil(() => model.calls.length === 2, 'the next inference starts');
      expect(model.calls[1].texts).toEqual(['i1', 'i2']); // ahead of b7-b9, queued before them, and without them
      model.calls[1].release();
      await turnsUntil(() => model.calls.length === 3, 'bulk resumes');
      // Interactive traffic is about now: bulk inferences are maxBulkBatchSize texts.
      expect(model.calls[2].texts).toEqual(['b7', 'b8']);
      model.calls[2].release();
      await turnsUntil(() => model.calls.length === 4, 'the last bulk text runs');
      expect(model.calls[3].texts).toEqual(['b9']);
      model.calls[3].release();
      expect(await interactive).toEqual(['i1', 'i2']);
      expect(await bulk).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
      expect(await later).toEqual(['b7', 'b8', 'b9']);
    });

    it('bulk batches grow back to maxBatchSize once no interactive text has come for INTERACTIVE_WINDOW_MS', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      const model = recordingModel();
      const batcher = new InferenceBatcher(model.infer, { maxBatchSize: 4, maxWaitMs: 0, maxBulkBatchSize: 1 });
      await batcher.predict(['i']);
      await batcher.predict(['a', 'b'], 'bulk');
      jest.advanceTimersByTime(INTERACTIVE_WINDOW_MS);
      await batcher.predict(['c', 'd'], 'bulk');
      expect(model.batches).toEqual([['i'], ['a'], ['b'], ['c', 'd']]);
    });

    it('reports only the interactive backlog (what paces the /predict worker)', async () => {
      const batcher = new InferenceBatcher(async (t: string[]) => t, { maxBatchSize: 2, maxWaitMs: 0 });
      const backlog: number[] = [];
      batcher.onBacklog((texts) => backlog.push(texts));
      await Promise.all([batcher.predict(['b1', 'b2', 'b3'], 'bulk'), batcher.predict(['1', '2', '3'])]);
      expect(backlog).toEqual([3, 1, 0]);
    });
  });
});
