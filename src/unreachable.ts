import { setTimeout as sleep } from 'node:timers/promises';
import { redact } from './postgres';

/** What a process or verb connects to, as operators and the README name them. */
export type Dependency = 'write store' | 'read store' | 'NATS' | 'Redis';

const SETTING: Record<Dependency, string> = {
  'write store': 'DATABASE_URL',
  'read store': 'READ_STORE_URL',
  NATS: 'NATS_URL',
  Redis: 'REDIS_URL',
};

/** "the write store", but "NATS" and "Redis": the servers go by their names. */
const named = (dependency: Dependency) => (dependency === 'NATS' || dependency === 'Redis' ? dependency : `the ${dependency}`);

/**
 * What a process says while it waits for a dependency: where it looks (no password), why when
 * known, the setting to check, and what it does meanwhile when it carries on without it.
 */
export function stillTrying(dependency: Dependency, url: string, reason?: string, meanwhile?: string): string {
  const why = reason === undefined ? '' : ` (${reason})`;
  const then = meanwhile ? ` (${meanwhile})` : '';
  return `cannot reach ${named(dependency)} at ${redact(url)} yet${why}, still trying; check ${SETTING[dependency]}${then}`;
}

/** A store or server that could not be reached: says which, where it was looked for (no password) and why. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(readonly dependency: Dependency, url: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`cannot reach ${named(dependency)} at ${redact(url)} (${reason}); check ${SETTING[dependency]}`, options);
  }
}

/** Runs a step that only connects (open a store, run migrations): any failure of it is the dependency's. */
export async function reaching<T>(dependency: Dependency, url: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    if (error instanceof UnreachableError) throw error;
    throw new UnreachableError(dependency, url, reasonOf(error), { cause: error });
  }
}

/** Like reaching, for a step that does more than connect: only connection failures are blamed on the dependency. */
export async function whileReaching<T>(dependency: Dependency, url: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const reason = connectionFailure(error);
    if (reason === undefined || error instanceof UnreachableError) throw error;
    throw new UnreachableError(dependency, url, reason, { cause: error });
  }
}

const SYSTEM_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
]);
/**
 * PostgreSQL: connection exceptions (class 08), shutting down or starting up (57P01-03), too many
 * connections, refused credentials (28000, 28P01) and a missing database (3D000).
 */
const POSTGRES_UNAVAILABLE = /^(08...|57P0[123]|53300|28000|28P01|3D000)$/;
const DRIVER_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i;
const MONGO_UNAVAILABLE = new Set(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoTopologyClosedError']);
/** NATS client errors of a server that is away or still starting (JetStream not answering yet). */
const NATS_UNAVAILABLE = new Set(['TIMEOUT', '503', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'CONNECTION_REFUSED', 'DISCONNECT', 'CONNECTION_TIMEOUT']);

/**
 * Why a request failed, when the failure is a store being unreachable or going away (pg, the
 * MongoDB driver or the OS), e.g. "ECONNREFUSED"; undefined for every other error.
 */
export function connectionFailure(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 3) return undefined;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (SYSTEM_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code))) return reasonOf(error);
  if (typeof name === 'string' && MONGO_UNAVAILABLE.has(name)) return reasonOf(error);
  if (name === 'NatsError' && typeof code === 'string' && NATS_UNAVAILABLE.has(code)) return `NATS ${code}`;
  if (typeof message === 'string' && DRIVER_MESSAGES.test(message)) return reasonOf(error);
  return connectionFailure((error as { cause?: unknown }).cause, depth + 1);
}

/** A short reason: the OS error code when there is one (ECONNREFUSED), else the driver's message. */
export function reasonOf(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && SYSTEM_CODES.has(code)) return code;
  const text = typeof message === 'string' ? message : String(error);
  const system = /\b(E[A-Z]{4,})\b/.exec(text)?.[1];
  if (system && SYSTEM_CODES.has(system)) return system;
  return text.split('\n')[0].slice(0, 200) || (typeof code === 'string' ? code : 'unknown error');
}

/** How often a process still waiting for a dependency at start-up says so. */
const WAITING_WARNING_MS = 5_000;
const START_BACKOFF_MS = { first: 250, max: 5_000 };

/**
 * Runs a start-up step until its dependency answers: a connection failure (PostgreSQL, the read
 * store or NATS down, restarting or refusing) is retried with capped exponential backoff, and
 * said every few seconds, instead of ending the process; any other error is thrown. The step
 * must clean up after itself when it fails (a retry starts it afresh).
 */
export async function untilReachable<T>(
  dependency: Dependency,
  url: string,
  run: () => Promise<T>,
  logger?: { warn(message: string): void },
): Promise<T> {
  let lastWarning = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const reason = error instanceof UnreachableError ? error.reason : connectionFailure(error);
      if (reason === undefined) throw error;
      if (Date.now() - lastWarning >= WAITING_WARNING_MS || attempt === 0) {
        lastWarning = Date.now();
        logger?.warn(stillTrying(dependency, url, reason));
      }
      await sleep(Math.min(START_BACKOFF_MS.first * 2 ** attempt, START_BACKOFF_MS.max));
    }
  }
}
