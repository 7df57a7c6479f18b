import { Benchmark, loadAverage } from './harness';
import { describeRun, PROJECTION, RATE, startVisibilitySystem } from './visibility-system';

const SECONDS = 10;

/**
 * Command → query visibility at a fixed command rate with the whole system in this process:
 * POST /inventory/{sku}/receipts over 100 skus until the inventory view's checkpoint covers
 * each command's token. Absolute by design: reported with the machine's load average.
 */
export const visibilityBenchmark: Benchmark = visibility('visibility', true);

/** The same with the query API's read cache off: the cache must not make visibility worse. */
export const visibilityWithoutCacheBenchmark: Benchmark = visibility('visibility-nocache', false);

function visibility(name: string, cache: boolean): Benchmark {
  const label = cache ? '' : ', CACHE=off';
  return {
  name,
  async run(ctx) {
    const system = await startVisibilitySystem(ctx, cache ? 'vis' : 'visnc', { CACHE: cache ? 'on' : 'off' });
    const run = await system.measure(Math.max(2, SECONDS * ctx.scale));
    await system.check();
    const notes = [
      `${describeRun(run)}; time from sending the command until the ${PROJECTION} checkpoint covers its token (the projector's checkpoint notice on core NATS)`,
      `load average after the run ${loadAverage()} (absolute targets: depend on the machine)`,
    ];
    return [
      {
        benchmark: `visibility p50 (command → query, ${RATE}/s${label})`,
        baseline: '-',
        subject: `${run.fromSent.p50.toFixed(1)} ms`,
        target: '≤ 10 ms',
        pass: run.fromSent.p50 <= 10,
        notes,
      },
      {
        benchmark: `visibility p99 (command → query, ${RATE}/s${label})`,
        baseline: '-',
        subject: `${run.fromSent.p99.toFixed(1)} ms`,
        target: '≤ 50 ms',
        pass: run.fromSent.p99 <= 50,
      },
    ];
  },
};
}
