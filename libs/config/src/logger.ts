import { ConsoleLogger, LogLevel } from '@nestjs/common';
import type { TagserveConfig } from './config.schema';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Structured JSON logs (one object a line) in containers; readable text for local debugging. */
export function createLogger(config: Pick<TagserveConfig, 'LOG_LEVEL' | 'LOG_FORMAT'>, context: string): ConsoleLogger {
  return new ConsoleLogger(context, {
    json: config.LOG_FORMAT === 'json',
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1),
  });
}
