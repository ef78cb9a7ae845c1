import type { Logger } from '@nestjs/common';

/** What stopOnThreadDeath needs of the process: its own for real, an EventEmitter in tests. */
export interface StoppableProcess {
  readonly pid: number;
  exitCode?: number | string | null;
  once(event: 'exit', listener: () => void): unknown;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/**
 * The handler for an inference thread that exits unexpectedly. A worker without its model cannot
 * serve: stop (draining what can be answered) and let the orchestrator restart it; jobs it held go
 * back to the queue through the stalled check.
 */
export function stopOnThreadDeath(logger: Pick<Logger, 'fatal'>, proc: StoppableProcess = process): (err: Error) => void {
  return (err) => {
    logger.fatal({ msg: 'inference thread died, stopping the worker', err: err.message });
    // The graceful shutdown ends with process.exit(0); the exit code must still say it failed.
    proc.once('exit', () => (proc.exitCode = 1));
    proc.kill(proc.pid, 'SIGTERM');
  };
}
