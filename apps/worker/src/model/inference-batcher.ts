export interface BatcherOptions {
  /** Most texts in one padded inference. */
  maxBatchSize: number;
  /** How long the first text of an idle batcher waits for company before running alone. */
  maxWaitMs: number;
  /**
   * Padded tokens (texts × longest) one inference may hold; texts of similar length are batched
   * together (see takeByTokenBudget). Unset: FIFO batches of maxBatchSize.
   */
  maxBatchTokens?: number;
  /** Recent results by exact text: a hit is answered without a batch. */
  cache?: PredictionCache<unknown>;
  /**
   * Most bulk texts in one inference while interactive texts have come in the last
   * INTERACTIVE_WINDOW_MS (see the class comment); without interactive traffic bulk batches are
   * `maxBatchSize`. Unset: `maxBatchSize` always.
   */
  maxBulkBatchSize?: number;
}

/** Which queue a text waits in: interactive (/predict) texts always go before bulk (job chunk) texts. */
export type Lane = 'interactive' | 'bulk';

/**
 * How long after the last interactive text bulk batches stay small: longer than a client's
 * round trip between two /predict requests (a few ms here), short enough that a bulk job alone
 * gets full batches back within a second.
 */
export const INTERACTIVE_WINDOW_MS = 1000;

import type { PredictionCache } from './prediction-cache';
import { takeByTokenBudget } from './token-budget';

export interface BatchStats {
  size: number;
  ms: number;
}

/** Where the time of one predict() call went: waiting for a batch, and in the model. */
export interface BatchTimings {
  /** Until the last inference holding its texts started. */
  batchWaitMs: number;
  /** Summed time of the inferences that held its texts (a batch shared with others counts whole). */
  modelMs: number;
}

interface TextTiming {
  batch: number;
  waitMs: number;
  batchMs: number;
}

interface PendingText<R> {
  text: string;
  enqueuedAt: number;
  resolve: (result: R, timing: TextTiming) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batching across jobs: texts from concurrent jobs are gathered into one padded
 * inference of at most `maxBatchSize`. Exactly one inference runs at a time (in the inference
 * thread, see ModelThread); the texts of jobs BullMQ hands over meanwhile form the next batch,
 * so batches fill under load by themselves ("continuous batching"), and the next batch goes to
 * the model before the previous one's jobs are completed. Before the first batch after idling
 * the batcher yields one event-loop turn (setImmediate), so that jobs whose Redis replies are
 * already there join it. `maxWaitMs` > 0 additionally holds the first text of an idle batcher
 * back for company, which only trades low-load latency for slightly bigger batches at
 * moderate load.
 * A request with more texts than `maxBatchSize` is spread over consecutive batches (FIFO by
 * text), so it never pads one huge inference and cannot starve the jobs queued behind it
 * for longer than its own texts take.
 *
 * Two lanes: interactive texts (/predict) go into the next inference ahead of every bulk text
 * (job chunks), and an inference holding interactive texts holds no bulk text, so its callers
 * wait for their own texts only. Bulk texts run when no interactive text waits; while
 * interactive traffic is about, in inferences of at most `maxBulkBatchSize` texts, because an
 * interactive text that arrives meanwhile waits for the bulk inference in progress (the model
 * cannot be interrupted): 4 holdout texts are ~20 ms, 16 are ~80 ms.
 */
export class InferenceBatcher<R = unknown> {
  private pending: PendingText<R>[] = [];
  private bulk: PendingText<R>[] = [];
  private lastInteractiveAt = -Infinity;
  private batches = 0;
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly listeners: ((stats: BatchStats) => void)[] = [];
  private readonly backlogListeners: ((texts: number) => void)[] = [];

  /**
   * `infer` runs a batch (in the inference thread); `inferAlone`, if given, runs a lone text
   * (one text, nothing else waiting) on the calling thread instead: with nothing to overlap
   * with, the hand-off to the thread and back costs a lone request about 0.7 ms for nothing.
   */
  constructor(
    private readonly infer: (texts: string[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
    private readonly inferAlone?: (texts: string[]) => Promise<R[]>,
  ) {}

  /** Results in the order of `texts`; a long list is spread over several batches. */
  async predict(texts: string[], lane: Lane = 'interactive'): Promise<R[]> {
    return (await this.predictTimed(texts, lane)).results;
  }

  /** The same, with where the time went (see BatchTimings). */
  async predictTimed(texts: string[], lane: Lane = 'interactive'): Promise<{ results: R[]; timings: BatchTimings }> {
    const enqueuedAt = performance.now();
    if (lane === 'interactive' && texts.length > 0) this.lastInteractiveAt = enqueuedAt;
    const cache = this.options.cache as PredictionCache<R> | undefined;
    const queue = lane === 'interactive' ? this.pending : this.bulk;
    let queued = 0;
    const timed = texts.map((text) => {
      const hit = cache?.get(text);
      if (hit !== undefined) return Promise.resolve({ result: hit, timing: { batch: 0, waitMs: 0, batchMs: 0 } });
      queued++;
      return new Promise<{ result: R; timing: TextTiming }>((resolve, reject) =>
        queue.push({ text, enqueuedAt, resolve: (result, timing) => resolve({ result, timing }), reject }),
      );
    });
    if (queued > 0) {
      if (lane === 'interactive') this.backlogChanged();
      this.schedule();
    }
    const done = await Promise.all(timed);
    const batchMs = new Map(done.map(({ timing }) => [timing.batch, timing.batchMs]));
    return {
      results: done.map(({ result }) => result),
      timings: {
        batchWaitMs: Math.max(0, ...done.map(({ timing }) => timing.waitMs)),
        modelMs: [...batchMs.values()].reduce((a, b) => a + b, 0),
      },
    };
  }

  onBatch(listener: (stats: BatchStats) => void): void {
    this.listeners.push(listener);
  }

  /** Told the number of interactive texts waiting for a batch (not yet in an inference) whenever it changes. */
  onBacklog(listener: (texts: number) => void): void {
    this.backlogListeners.push(listener);
  }

  private backlogChanged(): void {
    for (const listener of this.backlogListeners) listener(this.pending.length);
  }

  /** Texts waiting in both lanes. */
  private get waiting(): number {
    return this.pending.length + this.bulk.length;
  }

  private schedule(): void {
    if (this.running) return; // the running loop picks the new texts up
    if (this.waiting >= this.options.maxBatchSize || this.options.maxWaitMs <= 0) {
      void this.drain();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.drain(), this.options.maxWaitMs);
    }
  }

  private async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running) return;
    this.running = true;
    try {
      // Let jobs whose replies are already in (this event-loop turn) join the first batch.
      await yieldToEventLoop();
      let current: RunningBatch<R> | undefined = this.startBatch();
      while (current) {
        const outcome = await current.outcome;
        // Texts that came during the inference form the next batch. It goes to the model before
        // this batch is settled: settling runs the jobs' completion work (replies, Redis writes)
        // on this thread, which the model (in its own thread) need not wait for. A lone text runs
        // on this thread, so it starts after.
        const next = this.waiting > 0 && !this.wouldRunAlone() ? this.startBatch() : undefined;
        this.settle(current, outcome);
        current = next ?? (this.waiting > 0 ? this.startBatch() : undefined);
      }
    } finally {
      this.running = false;
    }
  }

  private wouldRunAlone(): boolean {
    return this.inferAlone !== undefined && this.waiting === 1;
  }

  private startBatch(): RunningBatch<R> {
    const alone = this.wouldRunAlone();
    const { maxBatchSize, maxBatchTokens, maxBulkBatchSize } = this.options;
    const interactive = this.pending.length > 0;
    const from = interactive ? this.pending : this.bulk;
    const busy = performance.now() - this.lastInteractiveAt < INTERACTIVE_WINDOW_MS;
    const size = interactive || !busy ? maxBatchSize : Math.min(maxBatchSize, maxBulkBatchSize ?? maxBatchSize);
    const batch = maxBatchTokens ? takeByTokenBudget(from, size, maxBatchTokens) : from.splice(0, size);
    if (interactive) this.backlogChanged();
    const infer = alone ? this.inferAlone! : this.infer;
    const started = performance.now();
    const outcome = infer(batch.map((item) => item.text)).then(
      (results): BatchOutcome<R> => ({ results, ms: performance.now() - started }),
      (error: unknown): BatchOutcome<R> => ({ error, ms: performance.now() - started }),
    );
    return { id: ++this.batches, batch, outcome, started };
  }

  private settle({ id, batch, started }: RunningBatch<R>, outcome: BatchOutcome<R>): void {
    const { results } = outcome;
    let error = outcome.error;
    if (!error && results?.length !== batch.length) error = new Error(`model returned ${results?.length} results for ${batch.length} texts`);
    if (error) batch.forEach((item) => item.reject(error));
    else {
      batch.forEach((item, i) => item.resolve(results![i], { batch: id, waitMs: started - item.enqueuedAt, batchMs: outcome.ms }));
      for (let i = 0; i < batch.length; i++) this.options.cache?.set(batch[i].text, results![i]);
    }
    const stats = { size: batch.length, ms: outcome.ms };
    for (const listener of this.listeners) listener(stats);
  }
}

interface BatchOutcome<R> {
  results?: R[];
  error?: unknown;
  ms: number;
}

interface RunningBatch<R> {
  id: number;
  batch: PendingText<R>[];
  outcome: Promise<BatchOutcome<R>>;
  started: number;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
