import { ThrottlerStorageService } from '@nestjs/throttler';
import { HitWindowStorage } from './hit-window.storage';
import { throttlerOptions } from './throttler-options';

/** A seeded generator (mulberry32): the same request sequence on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('HitWindowStorage', () => {
  const T0 = Date.UTC(2026, 0, 1);
  let stock: ThrottlerStorageService;
  let ours: HitWindowStorage;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    stock = new ThrottlerStorageService();
    ours = new HitWindowStorage();
  });
  afterEach(() => {
    stock.onApplicationShutdown();
    jest.useRealTimers();
  });

  // The oracle is @nestjs/throttler's own storage: the same requests at the same instants must
  // get the same answers (hits, window, block and its expiry), in both of its modes.
  it.each([
    ['blocking for the ttl (the gateway: blockDuration defaults to the ttl)', 10_000, 10_000],
    ['blocking for less than the ttl', 10_000, 3_000],
    ['blocking for longer than the ttl', 4_000, 9_000],
    ['not blocking (blockDuration 0)', 10_000, 0],
  ])('answers as the stock storage, %s', async (_mode, ttl, blockDuration) => {
    const next = random(ttl + blockDuration);
    const keys = ['ip:10.0.0.1', 'ip:10.0.0.2', 'key:0123456789ab'];
    let blocked = 0;
    for (let i = 0; i < 5_000; i++) {
      // Bursts (several requests in one millisecond) and pauses longer than the window.
      const r = next();
      jest.advanceTimersByTime(r < 0.4 ? 0 : r < 0.99 ? Math.floor(next() * 60) : Math.floor(next() * 2 * ttl));
      const key = keys[Math.floor(next() * keys.length)];
      const name = next() < 0.8 ? 'default' : 'burst';
      const limit = name === 'default' ? 20 : 5;
      const want = await stock.increment(key, ttl, limit, blockDuration, name);
      const got = await ours.increment(key, ttl, limit, blockDuration, name);
      expect({ i, ...got }).toEqual({ i, ...want });
      if (want.isBlocked) blocked++;
    }
    // The sequence reaches the limit often, and not always: both sides of it are compared.
    expect(blocked).toBeGreaterThan(100);
    expect(blocked).toBeLessThan(4_500);
  });

  it('orders a hit that expires before earlier ones (a shorter ttl on the same key) as the stock storage', async () => {
    for (const [ttl, step] of [
      [10_000, 0],
      [2_000, 100],
      [10_000, 100],
      [1_000, 500],
      [1_000, 0],
      [10_000, 1_200],
      [2_000, 900],
      [10_000, 2_500],
    ]) {
      jest.advanceTimersByTime(step);
      const want = await stock.increment('k', ttl, 100, 0, 'default');
      expect(await ours.increment('k', ttl, 100, 0, 'default')).toEqual(want);
    }
  });

  it('keeps answering past 200,000 hits in one window', async () => {
    // The stock no-block mode spreads every hit into Math.min: a RangeError (a 500) past ~125,000.
    let last;
    for (let i = 0; i < 200_000; i++) {
      if (i % 50 === 0) jest.advanceTimersByTime(1);
      last = await ours.increment('ip:10.0.0.9', 60_000, 1_000_000, 0, 'default');
    }
    expect(last).toEqual({ totalHits: 200_000, timeToExpire: 57, isBlocked: false, timeToBlockExpire: 0 });
    jest.advanceTimersByTime(60_000 - 3_999); // the first 50 hits expired at T0 + 60 s
    const after = await ours.increment('ip:10.0.0.9', 60_000, 1_000_000, 0, 'default');
    expect(after.totalHits).toBe(200_000 - 50 + 1);
  });

  it('drops idle trackers, and keeps a blocked one until its block ends', async () => {
    for (let i = 0; i < 3; i++) await ours.increment('ip:one-off', 1_000, 10, 1_000, 'default');
    for (let i = 0; i < 3; i++) await ours.increment('ip:blocked', 1_000, 1, 30_000, 'default');
    expect(ours.size).toBe(2);
    jest.advanceTimersByTime(1_001);
    ours.evictIdle();
    expect(ours.size).toBe(1);
    jest.advanceTimersByTime(30_000);
    ours.evictIdle();
    expect(ours.size).toBe(0);
  });

  it('sweeps idle trackers every minute on its own', async () => {
    await ours.increment('ip:one-off', 1_000, 10, 1_000, 'default');
    jest.advanceTimersByTime(60_000);
    expect(ours.size).toBe(0);
  });

  it("is the gateway's rate-limit storage", () => {
    const options = throttlerOptions({ THROTTLE_TTL_MS: 60_000, THROTTLE_LIMIT: 100_000 });
    expect(options).toEqual({ throttlers: [{ ttl: 60_000, limit: 100_000 }], storage: expect.any(HitWindowStorage) });
  });
});
