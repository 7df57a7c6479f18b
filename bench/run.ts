import 'reflect-metadata';
import { appendBenchmark } from './append.bench';
import { cachedQueryBenchmark } from './cached-query.bench';
import { commandPathBenchmark } from './command-path.bench';
import { growthBenchmark } from './growth.bench';
import { BenchContext, BenchResult, Benchmark, loadAverage, silentLogger } from './harness';
import { projectionBenchmark } from './projection.bench';
import { queryBenchmark } from './query.bench';
import { rebuildBenchmark } from './rebuild.bench';
import { relayBenchmark } from './relay.bench';
import { stallBenchmark } from './stall.bench';
import { visibilityBenchmark, visibilityInOneProcessBenchmark, visibilityWithoutCacheBenchmark } from './visibility.bench';

/**
 * `npm run bench`: the performance budget of DESIGN.md, each target a ratio measured side
 * by side in this run (never an absolute time), except visibility, which is absolute by design.
 * BENCH_ONLY=name1,name2 picks benchmarks; BENCH_SCALE=0.2 shortens them.
 */
const BENCHMARKS: Benchmark[] = [
  appendBenchmark,
  commandPathBenchmark,
  growthBenchmark,
  relayBenchmark,
  projectionBenchmark,
  rebuildBenchmark,
  visibilityBenchmark,
  visibilityWithoutCacheBenchmark,
  visibilityInOneProcessBenchmark,
  stallBenchmark,
  queryBenchmark,
  cachedQueryBenchmark,
];

function selected(): Benchmark[] {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only?.length) return BENCHMARKS;
  const unknown = only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  return BENCHMARKS.filter((b) => only.includes(b.name));
}

function scale(): number {
  const raw = process.env.BENCH_SCALE ?? '1';
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`BENCH_SCALE must be a positive number, got "${raw}"`);
  return value;
}

/** Clean-up of the benchmark running now, so that an interrupted run still drops its databases and streams. */
let cleanups: (() => unknown)[] = [];

async function cleanUp(name: string): Promise<void> {
  const pending = cleanups.reverse();
  cleanups = [];
  for (const cleanup of pending) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`  clean-up of ${name} failed: ${(error as Error).message}\n`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanUp('the interrupted benchmark').finally(() => process.exit(130));
  });
}

async function runOne(benchmark: Benchmark, factor: number): Promise<BenchResult[]> {
  cleanups = [];
  const ctx: BenchContext = {
    scale: factor,
    logger: silentLogger(),
    defer: (cleanup) => cleanups.push(cleanup),
    log: (message) => process.stderr.write(`  ${message}\n`),
  };
  const started = Date.now();
  process.stderr.write(`▶ ${benchmark.name}\n`);
  try {
    return await benchmark.run(ctx);
  } catch (error) {
    process.stderr.write(`  ${benchmark.name} failed: ${(error as Error).stack ?? String(error)}\n`);
    return [{ benchmark: benchmark.name, baseline: '-', subject: '-', target: '-', pass: false, notes: [`error: ${(error as Error).message}`] }];
  } finally {
    await cleanUp(benchmark.name);
    process.stderr.write(`  (${((Date.now() - started) / 1000).toFixed(1)} s, load average ${loadAverage()})\n`);
  }
}

function printTable(results: BenchResult[]): void {
  const header = ['benchmark', 'baseline rate', 'subject rate', 'ratio', 'DESIGN target', 'result'];
  const rows = results.map((r) => [
    r.benchmark,
    r.baseline,
    r.subject,
    // Truncated, so that a ratio just below its target never prints as meeting it.
    r.ratio === undefined ? '-' : `${(Math.floor(r.ratio * 100) / 100).toFixed(2)}×`,
    r.target,
    r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
  const notes = results.filter((r) => r.notes?.length);
  if (notes.length) {
    console.log('\nnotes:');
    for (const r of notes) for (const note of r.notes!) console.log(`  ${r.benchmark}: ${note}`);
  }
}

async function main(): Promise<void> {
  const benchmarks = selected();
  const factor = scale();
  const started = Date.now();
  const results: BenchResult[] = [];
  for (const benchmark of benchmarks) results.push(...(await runOne(benchmark, factor)));
  console.log('');
  printTable(results);
  console.log(
    `\n${results.filter((r) => r.pass === false).length} MISS of ${results.filter((r) => r.pass !== undefined).length} targets; ` +
      `BENCH_SCALE=${factor}; ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${loadAverage()} (2-core machine, shared)`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
