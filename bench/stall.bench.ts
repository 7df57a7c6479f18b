import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase } from '../src/postgres';
import { Benchmark, databaseUrl, loadAverage, uniqueName } from './harness';
import { describeRun, startVisibilitySystem } from './visibility-system';

const STALL_SECONDS = 10;
/** Below what this machine sustains, so that the runs measure the relay's horizon, not a command queue. */
const RATE = 100;
/** Noise allowance on this shared machine: "unchanged" means within it. */
const TOLERANCE = { factor: 1.5, ms: 10 };

/**
 * Visibility p99 at 100 commands/s while a transaction in another database of the same
 * PostgreSQL server holds a transaction id open for 10 s (a report, a backup, a forgotten session), vs the same system
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
    // Warm-up of the whole pipeline (fresh processes compile their hot paths on the first requests), discarded.
    await system.measure(Math.max(2, 5 * ctx.scale), RATE);
    const quiet = await system.measure(seconds, RATE);
    // Opened as the run starts (its warm-up second first) and ended 10 s later, whatever the run is doing then.
    await foreign.query('BEGIN; SELECT pg_current_xact_id()');
    const heldMs = STALL_SECONDS * 1000 * Math.min(1, ctx.scale);
    const ended = sleep(heldMs).then(() => foreign.query('ROLLBACK')).catch(() => undefined); // foreign.end() rolls back otherwise
    const stalled = await system.measure(seconds, RATE);
    await ended;
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
          `a transaction with an xid in another database held open for ${(heldMs / 1000).toFixed(1)} s from the start of the second run; ` +
            `"unchanged": at most ${TOLERANCE.factor}× + ${TOLERANCE.ms} ms of the first run's p99 (${bound.toFixed(1)} ms)`,
          `without: ${describeRun(quiet)}`,
          `with: ${describeRun(stalled)}`,
          `load average after the run ${loadAverage()}`,
        ],
      },
    ];
  },
};
