import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from './support/stack';
import { waitFor } from './support/wait-for';

const HEARTBEAT_MS = 300;
const GRACE_MS = 2000;
const ROOT = join(__dirname, '..');

/** The container healthcheck, run as Docker runs it: exit 0 healthy, 1 unhealthy. */
function healthcheck(file: string): number | null {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'healthcheck.js'), 'worker'], {
    env: { PATH: process.env.PATH ?? '', WORKER_HEARTBEAT_FILE: file, WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS) },
  });
  return run.status;
}

/**
 * A worker while Redis is away: it is not consuming, so its heartbeat goes stale and the
 * healthcheck fails (an orchestrator restarts it); it is healthy again once Redis is back; and a
 * SIGTERM while Redis is down still ends the process, with exit 0, within the grace period plus
 * the bound on closing connections (5 s), instead of waiting on Redis for ever.
 */
describe('worker during a Redis outage', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tagserve-heartbeat-'));
    stack = await Stack.create({ WORKER_HEARTBEAT_MS: String(HEARTBEAT_MS), SHUTDOWN_GRACE_MS: String(GRACE_MS) });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns unhealthy while Redis is down, healthy again when it is back, and exits 0 on SIGTERM with Redis down', async () => {
    const file = join(dir, 'worker.alive');
    const worker = await stack.startWorker({ WORKER_HEARTBEAT_FILE: file });
    await waitFor(() => healthcheck(file) === 0, { timeoutMs: 10_000, what: 'healthy worker' });

    await stack.redis.stop();
    const downAt = Date.now();
    await waitFor(() => healthcheck(file) === 1, { timeoutMs: 10 * HEARTBEAT_MS, what: 'unhealthy worker while Redis is down' });
    // Stale after 3 heartbeats (the healthcheck's limit), not before.
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS);
    expect(worker.running).toBe(true);

    await stack.redis.restart();
    await waitFor(() => healthcheck(file) === 0, { timeoutMs: 15_000, what: 'healthy again after Redis returned' });

    await stack.redis.stop();
    await waitFor(() => healthcheck(file) === 1, { timeoutMs: 10 * HEARTBEAT_MS, what: 'unhealthy again' });
    const stopAt = Date.now();
    const code = await worker.stop('SIGTERM', GRACE_MS + 15_000);
    const exitMs = Date.now() - stopAt;
    console.log(`worker exited ${code} ${exitMs} ms after SIGTERM with Redis down`);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(GRACE_MS + 5000 + 3000);
  });
});
