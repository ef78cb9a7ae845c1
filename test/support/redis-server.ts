import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

/**
 * A TCP port free on every address, below the kernel's ephemeral range. A port the kernel hands
 * out for `listen(0)` is an ephemeral one: between this check and the child's own listen, an
 * outgoing connection (a Redis client's) could take it as its local port, and the child died
 * with EADDRINUSE (seen once in CI: a worker's metrics port). Ports below the range are never
 * given to outgoing connections.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low - 1 - Math.floor(Math.random() * Math.min(12_000, low - 1025));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found below ${low}`);
}

/** The lowest port of the kernel's ephemeral range (Linux), or IANA's default elsewhere. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // not Linux
  }
  return 49152;
}

/** Whether a server could listen on `port` on all addresses (as the api and the worker's metrics do). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
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
