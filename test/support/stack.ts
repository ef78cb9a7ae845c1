import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, waitForStatus } from './app-process';
import { queueKey, uniqueQueuePrefix } from './queue-keys';
import { freePort, RedisServer, RedisServerOptions } from './redis-server';

/** Real redis-server + api + workers as separate processes: what `npm start` runs, on private ports. */
export class Stack {
  readonly workers: AppProcess[] = [];
  api?: AppProcess;
  private readonly dirs: string[] = [];

  private constructor(
    readonly redis: RedisServer,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  /**
   * `redis` is the password (as before) or the options of the private redis-server. The apps get a
   * QUEUE_PREFIX of their own (see uniqueQueuePrefix) unless `env` sets one.
   */
  static async create(env: Record<string, string> = {}, redis: string | RedisServerOptions = ''): Promise<Stack> {
    const server = await RedisServer.start(redis);
    const port = await freePort();
    return new Stack(server, port, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(server.port),
      REDIS_PASSWORD: server.password,
      PORT: String(port),
      HOST: '127.0.0.1',
      QUEUE_PREFIX: uniqueQueuePrefix(),
      ...env,
    });
  }

  /** The QUEUE_PREFIX the apps of this stack use. */
  get prefix(): string {
    return this.env.QUEUE_PREFIX;
  }

  /** A Redis key of this stack's prediction queue, e.g. key('wait') or key(jobId). */
  key(suffix: string): string {
    return queueKey(this.prefix, suffix);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startApi(env: Record<string, string> = {}): Promise<AppProcess> {
    this.api = AppProcess.start('api', { ...this.env, ...env });
    await waitForStatus(`${this.url}/health/live`, 200);
    return this.api;
  }

  /** Starts a worker with its own model directory and waits until it has registered with Redis. */
  async startWorker(env: Record<string, string> = {}): Promise<AppProcess> {
    const worker = this.spawnWorker(env);
    await worker.waitForLog(/worker ready/, 90_000);
    return worker;
  }

  /** Starts a worker without waiting for it (for workers that are expected not to get ready). */
  spawnWorker(env: Record<string, string> = {}): AppProcess {
    const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-model-'));
    this.dirs.push(modelDir);
    const worker = AppProcess.start('worker', { ...this.env, MODEL_DIR: modelDir, ...env });
    this.workers.push(worker);
    return worker;
  }

  async waitUntilReady(): Promise<void> {
    await waitForStatus(`${this.url}/health/ready`, 200);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers, ...(this.api ? [this.api] : [])].map((p) => p.stop('SIGKILL').catch(() => undefined)));
    await this.redis.dispose();
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
