import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, waitForStatus } from './app-process';
import { freePort, RedisServer } from './redis-server';

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

  static async create(env: Record<string, string> = {}, redisPassword = ''): Promise<Stack> {
    const redis = await RedisServer.start(redisPassword);
    const port = await freePort();
    return new Stack(redis, port, {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      REDIS_PASSWORD: redisPassword,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    });
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
    const modelDir = mkdtempSync(join(tmpdir(), 'tagserve-model-'));
    this.dirs.push(modelDir);
    const worker = AppProcess.start('worker', { ...this.env, MODEL_DIR: modelDir, ...env });
    this.workers.push(worker);
    await worker.waitForLog(/worker ready/, 90_000);
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
