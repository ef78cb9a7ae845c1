export interface BatcherOptions {
  /** Most texts in one padded inference. */
  maxBatchSize: number;
  /** How long the first text of an idle batcher waits for company before running alone. */
  maxWaitMs: number;
}

export interface BatchStats {
  size: number;
  ms: number;
}

interface PendingText<R> {
  text: string;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batching across jobs: texts from concurrent jobs are gathered into one padded
 * inference of at most `maxBatchSize`. Inference is CPU-bound and blocks the event loop, so
 * exactly one runs at a time, and while it runs the jobs BullMQ hands over meanwhile wait in
 * the socket. Before taking each batch the batcher therefore yields one event-loop turn
 * (setImmediate): every job whose Redis reply is already there joins the batch, at no
 * measurable latency cost. This "continuous batching" fills batches under load by itself;
 * `maxWaitMs` > 0 additionally holds the first text of an idle batcher back for company,
 * which only trades low-load latency for slightly bigger batches at moderate load.
 * A request with more texts than `maxBatchSize` is spread over consecutive batches (FIFO by
 * text), so it never pads one huge inference and cannot starve the jobs queued behind it
 * for longer than its own texts take.
 */
export class InferenceBatcher<R = unknown> {
  private pending: PendingText<R>[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly listeners: ((stats: BatchStats) => void)[] = [];

  constructor(
    private readonly infer: (texts: string[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** Results in the order of `texts`; a long list is spread over several batches. */
  predict(texts: string[]): Promise<R[]> {
    const results = texts.map((text) => new Promise<R>((resolve, reject) => this.pending.push({ text, resolve, reject })));
    this.schedule();
    return Promise.all(results);
  }

  onBatch(listener: (stats: BatchStats) => void): void {
    this.listeners.push(listener);
  }

  private schedule(): void {
    if (this.running) return; // the running loop picks the new texts up
    if (this.pending.length >= this.options.maxBatchSize || this.options.maxWaitMs <= 0) {
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
      while (this.pending.length > 0) {
        // Let jobs that arrived during the previous inference (or in this event-loop turn) in.
        await yieldToEventLoop();
        const batch = this.pending.splice(0, this.options.maxBatchSize);
        const started = performance.now();
        try {
          const results = await this.infer(batch.map((item) => item.text));
          if (results.length !== batch.length) throw new Error(`model returned ${results.length} results for ${batch.length} texts`);
          batch.forEach((item, i) => item.resolve(results[i]));
        } catch (err) {
          batch.forEach((item) => item.reject(err));
        }
        const stats = { size: batch.length, ms: performance.now() - started };
        for (const listener of this.listeners) listener(stats);
      }
    } finally {
      this.running = false;
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
