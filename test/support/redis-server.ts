import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** requirepass: clients must authenticate. */
  password?: string;
  /** AOF with fsync on every write, so a hard stop and restart keeps every queued job. */
  persistent?: boolean;
  /** More redis-server arguments, e.g. ['--replicaof', '127.0.0.1', '6379']. */
  args?: string[];
}

/**
 * A real redis-server on its own port and data dir, one per test file, so tests can stop and
 * restart it without disturbing each other. Needs `redis-server` on PATH (.ci/run installs it).
 */
export class RedisServer {
  private process?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tagserve-redis-'));

  private constructor(
    readonly port: number,
    readonly password = '',
    readonly persistent = false,
    private readonly args: string[] = [],
  ) {}

  static async start(options: string | RedisServerOptions = {}): Promise<RedisServer> {
    const { password = '', persistent = false, args = [] } = typeof options === 'string' ? { password: options } : options;
    const server = new RedisServer(await freePort(), password, persistent, args);
    await server.restart();
    return server;
  }

  /** Starts it (again) with the arguments it was created with; `args` replaces the extra ones. */
  async restart(args = this.args): Promise<void> {
    args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...args];
    args.push(...(this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
    if (this.password) args.push('--requirepass', this.password);
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    await this.waitUntilUp();
  }

  /** The redis-server's process id, while it runs (the bench reports its CPU). */
  get pid(): number | undefined {
    return this.running ? this.process!.pid : undefined;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Hard stop, as a crash or a container restart would. */
  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  client(): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, password: this.password || undefined, maxRetriesPerRequest: null });
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const client = new Redis({ host: '127.0.0.1', port: this.port, password: this.password || undefined, lazyConnect: true, retryStrategy: () => null });
      client.on('error', () => undefined); // refused while starting: connect() rejects, which is handled below
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`redis-server did not start on port ${this.port} (is redis-server installed?)`);
  }
}
