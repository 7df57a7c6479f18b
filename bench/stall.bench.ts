import { Client } from 'pg';
import { dropDatabase, ensureDatabase } from '../src/postgres';
import { Benchmark, databaseUrl, loadAverage, uniqueName } from './harness';
import { describeRun, startVisibilitySystem } from './visibility-system';

const STALL_SECONDS = 10;
/** Noise allowance on this shared machine: "unchanged" means within it. */
const TOLERANCE = { factor: 1.5, ms: 10 };

/**
 * Visibility p99 while a transaction in another database of the same PostgreSQL server holds a
 * transaction id open for 10 s (a report, a backup, a forgotten session), vs the same system
 * without it, measured one after the other. The relay's horizon must not notice it.
 */
export const stallBenchmark: Benchmark = {
  name: 'stall',
  async run(ctx) {
    const system = await startVisibilitySystem(ctx, 'stall');
    const foreignUrl = databaseUrl(uniqueName('cvb_stall_foreign'));
    await ensureDatabase(foreignUrl);
    ctx.defer(() => dropDatabase(foreignUrl));
    const foreign = new Client({ connectionString: foreignUrl });
    await foreign.connect();
    ctx.defer(() => foreign.end());

    const seconds = Math.max(2, STALL_SECONDS * ctx.scale);
    await system.measure(2); // warm-up of the whole pipeline
    const quiet = await system.measure(seconds);
    // Opened just before the warm-up second and held through the measured seconds.
    await foreign.query('BEGIN; SELECT pg_current_xact_id()');
    const opened = performance.now();
    let stalled;
    try {
      stalled = await system.measure(seconds);
    } finally {
      await foreign.query('ROLLBACK');
    }
    const heldMs = performance.now() - opened;
    await system.check();
    const bound = quiet.fromSent.p99 * TOLERANCE.factor + TOLERANCE.ms;
    return [
      {
        benchmark: 'stall: visibility p99, foreign transaction open vs none',
        baseline: `${quiet.fromSent.p99.toFixed(1)} ms`,
        subject: `${stalled.fromSent.p99.toFixed(1)} ms`,
        ratio: stalled.fromSent.p99 / quiet.fromSent.p99,
        target: 'unchanged',
        pass: stalled.fromSent.p99 <= bound,
        notes: [
          `a transaction with an xid in another database held open ${(heldMs / 1000).toFixed(1)} s across the whole second run; ` +
            `"unchanged": at most ${TOLERANCE.factor}× + ${TOLERANCE.ms} ms of the first run's p99 (${bound.toFixed(1)} ms)`,
          `without: ${describeRun(quiet)}`,
          `with: ${describeRun(stalled)}`,
          `load average after the run ${loadAverage()}`,
        ],
      },
    ];
  },
};
