/**
 * Exact LRU cache of recent predictions, keyed by the whole text (no hashing, so no collisions):
 * catalogues repeat texts, and a hit costs a Map lookup instead of ~5 ms of encoder. Bounded both
 * by entries and by the characters of the keys it holds, so a few huge texts cannot pin memory.
 * Results are shared between callers: treat them as read-only.
 */
export interface CacheCounts {
  hits: number;
  misses: number;
  evictions: number;
}

export interface PredictionCacheOptions {
  /** Most texts held. */
  maxEntries: number;
  /** Most characters of text held (the keys; results are a few hundred bytes each). */
  maxChars: number;
}

export class PredictionCache<R> {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly entries = new Map<string, R>();
  private chars = 0;
  readonly counts: CacheCounts = { hits: 0, misses: 0, evictions: 0 };
  private readonly lookupListeners: ((hit: boolean) => void)[] = [];

  constructor(readonly options: PredictionCacheOptions) {
    if (!(options.maxEntries >= 1) || !(options.maxChars >= 1)) throw new Error('PredictionCache: maxEntries and maxChars must be >= 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get heldChars(): number {
    return this.chars;
  }

  /** Told of every get(): true for a hit (for the metrics). */
  onLookup(listener: (hit: boolean) => void): void {
    this.lookupListeners.push(listener);
  }

  /** The cached result (now the most recently used), or undefined; counted as a hit or a miss. */
  get(text: string): R | undefined {
    const value = this.entries.get(text);
    for (const listener of this.lookupListeners) listener(value !== undefined);
    if (value === undefined) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.entries.delete(text);
    this.entries.set(text, value);
    return value;
  }

  set(text: string, value: R): void {
    if (text.length > this.options.maxChars) return; // would evict everything and still not fit
    if (this.entries.delete(text)) this.chars -= text.length;
    this.entries.set(text, value);
    this.chars += text.length;
    while (this.entries.size > this.options.maxEntries || this.chars > this.options.maxChars) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
      this.counts.evictions++;
    }
  }
}
