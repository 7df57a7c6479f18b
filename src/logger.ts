import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

/** What every log line written while serving one request (or one saga step) carries. */
export interface LogContext {
  correlationId: string;
}

/** The request or saga step being served now: the logger mixes its correlation id into every line. */
export const logContext = new AsyncLocalStorage<LogContext>();

/**
 * One logger per process; the process name and, inside a request or saga step, its
 * correlation id are on every line. JSON by default (for log shippers), human-readable with
 * `format: 'pretty'` (a terminal; LOG_FORMAT).
 */
export function createLogger(processName: string, level = process.env.LOG_LEVEL ?? 'info', format: 'json' | 'pretty' = 'json'): Logger {
  const options: pino.LoggerOptions = {
    name: processName,
    level,
    mixin: () => {
      const context = logContext.getStore();
      return context ? { correlationId: context.correlationId } : {};
    },
  };
  if (format === 'pretty') return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, ignore: 'pid,hostname' }));
  return pino(options);
}
