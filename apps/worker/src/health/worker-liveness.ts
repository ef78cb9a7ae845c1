/** What the worker knows about itself at one heartbeat. */
export interface LivenessState {
  now: number;
  /** The BullMQ worker runs, is not closing, and its Redis connection is ready. */
  consuming: boolean;
  /** Why not, when not consuming (e.g. the connection status). */
  notConsumingBecause?: string;
  /** Start time of every job inside the processor right now. */
  jobStarts: Iterable<[string, number]>;
  /** When this worker last took or finished a job (or started). */
  lastProgressAt: number;
  /** The worker could take another job now (fewer in hand than its concurrency). */
  hasRoom: boolean;
  /** Jobs waiting in the queue; read from Redis only when the other signs point to a stall. */
  waiting: () => Promise<number>;
}

export interface LivenessLimits {
  /** WORKER_MAX_JOB_MS: a job in the processor longer than this means a stuck model or batcher. */
  maxJobMs: number;
  /** WORKER_STALL_MS: taking and finishing nothing this long while jobs wait and there is room means a stopped fetch loop. */
  stallMs: number;
}

/**
 * Why this worker is not doing its job, or undefined when it is. A heartbeat is written only when
 * this finds nothing, so each problem, lasting three heartbeats, turns the container unhealthy:
 * - not consuming: the BullMQ worker stopped or closes, or its Redis connection is not ready;
 * - a job held too long: the model (or the batcher) stopped answering;
 * - a stalled fetch loop: jobs wait, the worker has room, yet takes none — what BullMQ issues
 *   #3088, #4378 and #4479 describe after connection resets, with isRunning() still true.
 * A worker that is merely idle (nothing waiting) or full (no room) is healthy. (bullmq 5.81.5,
 * the minimum package.json asks for, has the #4479 fix backported from 6.0.7: BZPOPMIN raced
 * against a watchdog that drops the re-sent command and reconnects. This check is for the next one.)
 */
export async function livenessProblem(state: LivenessState, limits: LivenessLimits): Promise<string | undefined> {
  if (!state.consuming) return `not consuming (${state.notConsumingBecause ?? 'stopped'})`;
  for (const [jobId, startedAt] of state.jobStarts) {
    const ms = state.now - startedAt;
    if (ms > limits.maxJobMs) return `job ${jobId} has been in the processor for ${ms} ms (WORKER_MAX_JOB_MS ${limits.maxJobMs})`;
  }
  const idleMs = state.now - state.lastProgressAt;
  if (!state.hasRoom || idleMs <= limits.stallMs) return undefined;
  const waiting = await state.waiting();
  if (waiting > 0) return `took and finished no job for ${idleMs} ms while ${waiting} wait and it has room (WORKER_STALL_MS ${limits.stallMs})`;
  return undefined;
}
