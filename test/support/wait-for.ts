export interface WaitForOptions {
  /** Give up (and throw) after this long. */
  timeoutMs?: number;
  /** Pause between two checks of the condition. */
  intervalMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

/**
 * Checks `condition` until it returns a truthy value (returned), and throws once `timeoutMs` has
 * passed without: a test waits for what it needs, as long as it takes, within a deadline, instead
 * of sleeping a fixed time and hoping. A condition that throws is treated as not yet met and its
 * last error is reported on timeout.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what} not met within ${timeoutMs} ms${lastError ? `; last error: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
