import pino from 'pino';

export type Logger = pino.Logger;

/** One JSON logger per process; the process name is on every line. */
export function createLogger(processName: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: processName, level });
}
