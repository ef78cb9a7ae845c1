import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { PREDICTION_QUEUE } from '@tagserve/queue';

/** A Redis key of the prediction queue as BullMQ names it: `<prefix>:<queue>:<suffix>` ('wait', 'active', a job id, ...). */
export function queueKey(prefix: string, suffix: string): string {
  return `${prefix}:${PREDICTION_QUEUE}:${suffix}`;
}

/**
 * A QUEUE_PREFIX of its own for every stack: `t-<test file>-<random>`, so no two test files (or two
 * stacks of one file) ever share a key, and a key left over names the file that left it.
 * QUEUE_PREFIX allows [a-zA-Z0-9_-] only.
 */
export function uniqueQueuePrefix(): string {
  // Outside jest (scripts reusing the stack) there is no test path.
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  const file = testPath ? basename(testPath).replace(/\.e2e-spec\.ts$|\.ts$/, '') : 'run';
  return `t-${file.replace(/[^a-zA-Z0-9_-]/g, '-')}-${randomBytes(3).toString('hex')}`;
}
