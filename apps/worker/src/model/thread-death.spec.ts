import { EventEmitter } from 'node:events';
import { stopOnThreadDeath } from './thread-death';

/** A stand-in for `process`: exit() behaves like Node's (sets exitCode, then emits 'exit'). */
class FakeProcess extends EventEmitter {
  readonly pid = 4242;
  exitCode?: number | string | null;
  readonly kill = jest.fn((_pid: number, _signal: NodeJS.Signals) => true);

  exit(code: number): number | string | null | undefined {
    this.exitCode = code;
    this.emit('exit', code);
    return this.exitCode;
  }
}

describe('stopOnThreadDeath (the inference thread exited unexpectedly)', () => {
  it('logs a fatal line and sends this process SIGTERM, so the graceful shutdown drains the worker', () => {
    const proc = new FakeProcess();
    const logger = { fatal: jest.fn() };
    stopOnThreadDeath(logger, proc)(new Error('inference thread exited with code 7'));
    expect(logger.fatal).toHaveBeenCalledWith(expect.objectContaining({ err: 'inference thread exited with code 7' }));
    expect(proc.kill).toHaveBeenCalledTimes(1);
    expect(proc.kill).toHaveBeenCalledWith(4242, 'SIGTERM');
  });

  it('makes the process exit 1 even though the graceful shutdown exits 0', () => {
    const proc = new FakeProcess();
    stopOnThreadDeath({ fatal: jest.fn() }, proc)(new Error('inference thread crashed: boom'));
    // Nothing changes before the exit: the drain runs as for any SIGTERM.
    expect(proc.exitCode).toBeUndefined();
    expect(proc.exit(0)).toBe(1);
  });

  it('does not touch the exit code of a process whose thread is alive', () => {
    const proc = new FakeProcess();
    stopOnThreadDeath({ fatal: jest.fn() }, proc);
    expect(proc.kill).not.toHaveBeenCalled();
    expect(proc.exit(0)).toBe(0);
  });
});
