import { LivenessState, livenessProblem } from './worker-liveness';

const limits = { maxJobMs: 60_000, stallMs: 15_000 };
const now = 1_000_000;

function state(overrides: Partial<LivenessState> = {}): LivenessState {
  return { now, consuming: true, jobStarts: [], lastProgressAt: now - 1000, hasRoom: true, waiting: async () => 0, ...overrides };
}

describe('livenessProblem', () => {
  it('is healthy when consuming with recent progress', async () => {
    expect(await livenessProblem(state(), limits)).toBeUndefined();
  });

  it('reports a worker that is not consuming, with the reason', async () => {
    expect(await livenessProblem(state({ consuming: false, notConsumingBecause: 'Redis connection reconnecting' }), limits)).toMatch(
      /not consuming \(Redis connection reconnecting\)/,
    );
  });

  it('reports a job held past WORKER_MAX_JOB_MS, not one just under it', async () => {
    expect(await livenessProblem(state({ jobStarts: [['a', now - 59_000]] }), limits)).toBeUndefined();
    expect(
      await livenessProblem(
        state({
          jobStarts: [
            ['a', now - 1000],
            ['b', now - 61_000],
          ],
        }),
        limits,
      ),
    ).toMatch(/job b has been in the processor for 61000 ms/);
  });

  it('reports a stalled fetch loop: no progress past WORKER_STALL_MS while jobs wait and there is room', async () => {
    expect(await livenessProblem(state({ lastProgressAt: now - 16_000, waiting: async () => 3 }), limits)).toMatch(/no job for 16000 ms while 3 wait/);
  });

  it('is healthy when merely idle (nothing waits), full (no room), or idle for less than WORKER_STALL_MS', async () => {
    const waiting = jest.fn(async () => 3);
    expect(await livenessProblem(state({ lastProgressAt: now - 16_000 }), limits)).toBeUndefined();
    expect(await livenessProblem(state({ lastProgressAt: now - 16_000, hasRoom: false, waiting }), limits)).toBeUndefined();
    expect(await livenessProblem(state({ lastProgressAt: now - 14_000, waiting }), limits)).toBeUndefined();
    // Redis is asked for the waiting count only when the other signs point to a stall.
    expect(waiting).not.toHaveBeenCalled();
  });
});
