import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, RedisServer } from './redis-server';

export const SENTINEL_MASTER_NAME = 'tagserve-test';

/**
 * A real Redis Sentinel setup on loopback: a master, one replica and three `redis-sentinel`
 * processes (quorum 2), with failure detection shortened for tests. Needs `redis-server` and
 * `redis-sentinel` on PATH (.ci/run installs both).
 */
export class SentinelSetup {
  private readonly sentinels: Array<{ port: number; process: ChildProcess }> = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'tagserve-sentinel-'));

  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
  ) {}

  /** `downAfterMs`: how long a master may not answer before the sentinels call it down and fail over. */
  static async start(downAfterMs = 1000): Promise<SentinelSetup> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const setup = new SentinelSetup(master, replica);
    for (let i = 0; i < 3; i++) await setup.startSentinel(i, downAfterMs);
    await setup.waitForTopology();
    return setup;
  }

  /** `host:port,...` for REDIS_SENTINELS. */
  get addresses(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  sentinelClient(i = 0): Redis {
    return new Redis({ host: '127.0.0.1', port: this.sentinels[i].port, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  }

  /** The master's port as the sentinels report it right now. */
  async masterPort(): Promise<number> {
    const client = this.sentinelClient();
    try {
      const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)) as [string, string];
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  /** The server the sentinels report as master (after a failover, the former replica). */
  async currentMaster(): Promise<RedisServer> {
    const port = await this.masterPort();
    return port === this.master.port ? this.master : this.replica;
  }

  async stop(): Promise<void> {
    for (const { process } of this.sentinels) if (process.exitCode === null && process.signalCode === null) process.kill('SIGKILL');
    await Promise.all([this.master.dispose(), this.replica.dispose()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startSentinel(index: number, downAfterMs: number): Promise<void> {
    const port = await freePort();
    const file = join(this.dir, `sentinel-${index}.conf`);
    // Sentinel rewrites its own config file (it records the replicas and the other sentinels it finds).
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
        // Production default is 3 minutes; a failover that stalls is retried after this.
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
        '',
      ].join('\n'),
    );
    const process = spawn('redis-sentinel', [file], { stdio: 'ignore' });
    this.sentinels.push({ port, process });
  }

  /** Until every sentinel knows the replica and the two other sentinels (a failover needs their votes). */
  private async waitForTopology(): Promise<void> {
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      const states = await Promise.all(
        this.sentinels.map(async (_, i) => {
          const client = this.sentinelClient(i);
          client.on('error', () => undefined);
          try {
            const fields = (await client.call('SENTINEL', 'master', SENTINEL_MASTER_NAME)) as string[];
            const info = Object.fromEntries(fields.flatMap((v, j) => (j % 2 === 0 ? [[v, fields[j + 1]]] : [])));
            return `${info['num-slaves']}/${info['num-other-sentinels']}`;
          } catch (err) {
            return (err as Error).message;
          } finally {
            client.disconnect();
          }
        }),
      );
      last = states.join(' ');
      if (states.every((s) => s === '1/2')) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`sentinels did not see the replica and each other within 30 s (replicas/other sentinels: ${last}); is redis-sentinel installed?`);
  }
}
