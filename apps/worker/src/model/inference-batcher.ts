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
 * inference of at most `maxBatchSize`, waiting at most `maxWaitMs` when the model is idle.
 * While an inference runs, new texts queue up and go in the next batch without further wait.
 * Inference is CPU-bound, so exactly one runs at a time.
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

  get queued(): number {
    return this.pending.length;
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
