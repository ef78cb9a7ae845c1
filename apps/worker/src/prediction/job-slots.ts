/**
 * How many jobs the BullMQ worker may hold at once (its `concurrency`, which BullMQ lets a worker
 * change while it runs).
 *
 * Idle, one. While BullMQ's worker has a free slot it fetches jobs one after another and starts
 * the first one only once a fetch comes back empty (worker.ts mainLoop: "we fetch jobs in
 * sequence"). So a job that wakes an idle worker with 64 slots waits for one more Redis round trip,
 * a moveToActive that finds nothing, before it starts; with one slot it starts at once. Measured
 * at 1 client, the stack's p50 less the bare server's, paired (3,015 requests each, one run):
 * +4.00 ms with 64 slots always, +3.57 ms with this policy.
 *
 * Busy, WORKER_CONCURRENCY (lower while a full batch waits, see backlog()): a job that starts while
 * another is held, or that was fetched without the queue being seen empty since the fetch before
 * (BullMQ hands the next waiting job over with the previous one's completion), means load, and the
 * worker goes back to taking jobs while the model runs. Throughput was the same with and without
 * the idle slot: 2 workers at 64 clients, 1,361 against 1,357 texts/s summed over 5 alternated
 * pairs of runs; 1 worker at 8 and 64 clients, 2 pairs, within the machine's noise. It goes back
 * to one slot once no job is held and the queue was seen empty (BullMQ's 'drained') since the last
 * fetch (its 'active'). A job is never left behind by this: there is always at least one slot, and
 * BullMQ keeps fetching through it.
 */
export class JobSlots {
  private idle = true;
  /** BullMQ found the queue empty since it last fetched a job. */
  private drainedSinceFetch = true;
  /** The job fetched last came after the queue was seen empty: it woke an idle worker. */
  private fetchedAfterDrain = true;
  private backlogTexts = 0;

  /**
   * `held` counts the jobs inside the processor (what pacing compares with the backlog); `apply`
   * sets BullMQ's concurrency.
   */
  constructor(
    private readonly max: number,
    private readonly batchSize: number,
    private readonly held: () => number,
    private readonly apply: (concurrency: number) => void,
  ) {}

  /** The concurrency the worker should have now. */
  get value(): number {
    if (this.idle) return 1;
    // A full batch waits already: take no job beyond those held; the rest stay in Redis for a free worker.
    return this.backlogTexts >= this.batchSize ? Math.max(1, Math.min(this.held(), this.max)) : this.max;
  }

  /** BullMQ fetched a job (its 'active' event, emitted before the job starts). */
  fetched(): void {
    this.fetchedAfterDrain = this.drainedSinceFetch;
    this.drainedSinceFetch = false;
  }

  /** BullMQ found no job waiting (its 'drained' event); `running` jobs are in the processor. */
  drained(running: number): void {
    this.drainedSinceFetch = true;
    if (running === 0) this.set(true);
  }

  /**
   * A job enters the processor; `othersRunning` jobs are in it already. Called synchronously from
   * BullMQ's processor callback, so a raised concurrency counts before BullMQ fetches again.
   */
  jobStarting(othersRunning: number): void {
    if (othersRunning > 0 || !this.fetchedAfterDrain) this.set(false);
  }

  /** A job left the processor; `stillRunning` jobs remain in it. */
  jobFinished(stillRunning: number): void {
    if (stillRunning === 0 && this.drainedSinceFetch) this.set(true);
  }

  /** Texts waiting in the micro-batcher changed. */
  backlog(texts: number): void {
    this.backlogTexts = texts;
    this.apply(this.value);
  }

  private set(idle: boolean): void {
    this.idle = idle;
    this.apply(this.value);
  }
}
