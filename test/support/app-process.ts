import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A built app (dist/apps/<name>/src/main.js) run as a real child process, its output kept for assertions. */
export class AppProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: 'api' | 'worker',
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(name: 'api' | 'worker', env: Record<string, string>): AppProcess {
    const main = join(ROOT, 'dist', 'apps', name, 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm test does)`);
    const child = spawn(process.execPath, [main], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'log', LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(name, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once a log line matches, rejects if the process dies or the time runs out. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.output.find((l) => pattern.test(l));
      if (line) return line;
      if (!this.running) throw new Error(`${this.name} exited before logging ${pattern}:\n${this.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.name} did not log ${pattern} within ${timeoutMs} ms:\n${this.output.slice(-30).join('\n')}`);
  }

  /** Sends a signal and waits for the exit code (null when killed by the signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs).unref(),
    );
    return Promise.race([this.exited, timeout]);
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}

/** Polls a URL until it answers `status`. */
export async function waitForStatus(url: string, status: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === status) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms; last: ${last}`);
}
