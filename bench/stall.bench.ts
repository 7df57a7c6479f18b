import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase } from '../src/postgres';
import { Benchmark, databaseUrl, loadAverage, uniqueName } from './harness';
import { describeRun, percentiles, startVisibilitySystem, VisibilityRun } from './visibility-system';

const STALL_SECONDS = 10;
/** Below what this machine sustains, so that the runs measure the relay's horizon, not a command queue. */
const RATE = 100;
/** Noise allowance on this shared machine: "unchanged" means within it. */
const TOLERANCE = { factor: 1.5, ms: 10 };

/**
 * Visibility p99 at 100 commands/s while a transaction in another database of the same
 * PostgreSQL server holds a transaction id open for 10 s (a report, a backup, a forgotten
 * session), vs the same system without it. Four runs in the order without, with, with, without
 * (so that anything drifting over the benchmark, such as PostgreSQL's background work after the
 * first runs, weighs on both sides alike), each side's p99 over its two runs' commands. The
 * relay's horizon must not notice it.
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
    const heldMs = STALL_SECONDS * 1000 * Math.min(1, ctx.scale);
    // Warm-up of the whole pipeline (fresh processes compile their hot paths on the first requests), discarded.
    await system.measure(Math.max(2, 5 * ctx.scale), RATE);
    const runs: Record<'without' | 'with', VisibilityRun[]> = { without: [], with: [] };
    for (const side of ['without', 'with', 'with', 'without'] as const) {
      if (side === 'without') {
        runs.without.push(await system.measure(seconds, RATE));
        continue;
      }
      // Opened as the run starts (its warm-up second first) and ended 10 s later, whatever the run is doing then.
      await foreign.query('BEGIN; SELECT pg_current_xact_id()');
      const ended = sleep(heldMs)
        .then(() => foreign.query('ROLLBACK'))
        .catch(() => undefined); // foreign.end() rolls back otherwise
      runs.with.push(await system.measure(seconds, RATE));
      await ended;
    }
    await system.check();
    const p99 = (side: VisibilityRun[]) => percentiles(side.flatMap((run) => run.visibility)).p99;
    const quiet = p99(runs.without);
    const stalled = p99(runs.with);
    const bound = quiet * TOLERANCE.factor + TOLERANCE.ms;
    const each = (side: 'without' | 'with') => runs[side].map((run) => `${run.fromSent.p99.toFixed(1)} ms`).join(' and ');
    return [
      {
        benchmark: 'stall: visibility p99, foreign transaction open vs none',
        baseline: `${quiet.toFixed(1)} ms`,
        subject: `${stalled.toFixed(1)} ms`,
        ratio: stalled / quiet,
        target: 'unchanged',
        pass: stalled <= bound,
        notes: [
          `a transaction with an xid in another database held open for ${(heldMs / 1000).toFixed(1)} s from the start of each run "with"; ` +
            `runs in the order without, with, with, without; p99 over each side's two runs (each run's own p99: without ${each('without')}, with ${each('with')}); ` +
            `"unchanged": at most ${TOLERANCE.factor}× + ${TOLERANCE.ms} ms of the p99 without (${bound.toFixed(1)} ms)`,
          ...runs.without.map((run, i) => `without (run ${i === 0 ? 1 : 4}): ${describeRun(run)}`),
          ...runs.with.map((run, i) => `with (run ${i + 2}): ${describeRun(run)}`),
          `load average after the runs ${loadAverage()}`,
        ],
      },
    ];
  },
};
