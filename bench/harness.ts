import { createServer, RequestListener } from 'node:http';
import { loadavg } from 'node:os';
import type { Pool } from 'pg';
import { createLogger, Logger } from '../src/logger';
import { connectNats, eventStreamName } from '../src/nats';
import { createPool, dropDatabase, ensureDatabase, migrate } from '../src/postgres';

// The same naming and URLs as the tests, so benchmark runs never collide with test runs either.
import { databaseUrl, freePort, NATS_URL, uniqueName } from './support/local-services';

export { databaseUrl, freePort, NATS_URL, uniqueName } from './support/local-services';

/** What one benchmark reports: a side-by-side ratio, a context figure, or an absolute latency. */
export interface BenchResult {
  benchmark: string;
  baseline: string;
  subject: string;
  /** subject / baseline, when the row is a ratio. */
  ratio?: number;
  target: string;
  /** undefined: a context row with no target. */
  pass?: boolean;
  notes?: string[];
}

export interface BenchContext {
  /** Multiplies iteration counts and durations (BENCH_SCALE). */
  scale: number;
  logger: Logger;
  /** Registers clean-up (awaited if it returns a promise) that runs even when the benchmark throws. */
  defer(cleanup: () => unknown): void;
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export const silentLogger = (): Logger => createLogger('bench', 'silent');

export const IDLE_MS = 250;

/** A fresh database for one benchmark, migrated with one of the project's migration sets; dropped by ctx. */
export async function freshDatabase(
  ctx: BenchContext,
  prefix: string,
  set?: 'write-store' | 'read-store',
  poolSize = 10,
): Promise<{ url: string; pool: Pool }> {
  const url = databaseUrl(uniqueName(prefix));
  ctx.defer(() => dropDatabase(url));
  if (set) await migrate(url, set);
  else await ensureDatabase(url);
  // Idle connections close fast: PostgreSQL's 100 connections are shared with whoever else runs here.
  const pool = createPool(url, { max: poolSize, idleTimeoutMillis: IDLE_MS });
  ctx.defer(() => pool.end());
  return { url, pool };
}

/** Deletes a namespace's JetStream stream (and with it its consumers). */
export async function deleteEventStream(namespace: string): Promise<void> {
  const nc = await connectNats(NATS_URL, 'bench-cleanup');
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(eventStreamName(namespace)).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/**
 * Runs `op` from `concurrency` workers in a closed loop for `durationMs`; every op started
 * before the deadline is finished and counted. Returns operations per second.
 */
export async function closedLoopRate(
  concurrency: number,
  durationMs: number,
  op: (worker: number, iteration: number) => Promise<void>,
): Promise<{ ops: number; seconds: number; rate: number }> {
  let ops = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; Date.now() < deadline; i++) {
        await op(worker, i);
        ops++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ops, seconds, rate: ops / seconds };
}

/**
 * Measures baseline and subject in alternating rounds (ABBA order, so drift of a noisy
 * machine hits both alike) and returns each side's total work over total time.
 */
export async function sideBySide(
  rounds: number,
  baseline: (round: number) => Promise<{ ops: number; seconds: number }>,
  subject: (round: number) => Promise<{ ops: number; seconds: number }>,
): Promise<{ baseline: number; subject: number; ratio: number; perRound: number[] }> {
  const totals = { baseline: { ops: 0, seconds: 0 }, subject: { ops: 0, seconds: 0 } };
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'subject'] as const) : (['subject', 'baseline'] as const);
    const rates: Record<string, number> = {};
    for (const side of order) {
      const { ops, seconds } = await (side === 'baseline' ? baseline : subject)(round);
      totals[side].ops += ops;
      totals[side].seconds += seconds;
      rates[side] = ops / seconds;
    }
    perRound.push(rates.subject / rates.baseline);
  }
  const b = totals.baseline.ops / totals.baseline.seconds;
  const s = totals.subject.ops / totals.subject.seconds;
  return { baseline: b, subject: s, ratio: s / b, perRound };
}

export function rate(value: number, unit: string): string {
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

export function ratioRow(
  benchmark: string,
  measured: { baseline: number; subject: number; ratio: number; perRound: number[] },
  unit: string,
  minimum: number,
  targetText: string,
  notes: string[] = [],
): BenchResult {
  return {
    benchmark,
    baseline: rate(measured.baseline, unit),
    subject: rate(measured.subject, unit),
    ratio: measured.ratio,
    target: targetText,
    pass: measured.ratio >= minimum,
    notes: [`per-round ratios ${measured.perRound.map((r) => r.toFixed(2)).join(' ')}`, ...notes],
  };
}

export function loadAverage(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}

/** Rounds a count by the scale, never below `min`. */
export function scaled(ctx: BenchContext, count: number, min = 1): number {
  return Math.max(min, Math.round(count * ctx.scale));
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 2) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A JSON object whose serialisation is `bytes` long (± a few), for events of a fixed size. */
export function payloadOfSize(bytes: number, fields: Record<string, unknown>): Record<string, unknown> {
  const base = JSON.stringify({ ...fields, note: '' }).length;
  return { ...fields, note: 'x'.repeat(Math.max(0, bytes - base)) };
}

/** Serves `handler` on a free loopback port until the benchmark's clean-up; answers its base URL. */
export async function listen(ctx: BenchContext, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  server.keepAliveTimeout = 10_000;
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  ctx.defer(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${port}`;
}
