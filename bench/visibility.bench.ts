import { Benchmark, loadAverage } from './harness';
import { describeRun, PROJECTION, RATE, startVisibilitySystem } from './visibility-system';

const SECONDS = 10;
const WARM_UP_RUN_SECONDS = 5;

/**
 * Command → query visibility at a fixed command rate with the system as `npm start` runs it,
 * each process an OS process of its own: POST /inventory/{sku}/receipts over 100 skus until the
 * inventory view's checkpoint covers each command's token. Absolute by design: reported with
 * the machine's load average.
 */
export const visibilityBenchmark: Benchmark = visibility('visibility', { cache: true });

/** The same with the query API's read cache off: the cache must not make visibility worse. */
export const visibilityWithoutCacheBenchmark: Benchmark = visibility('visibility-nocache', { cache: false });

/** For context: every process on one event loop (`main.js all`), beside the load generator. */
export const visibilityInOneProcessBenchmark: Benchmark = visibility('visibility-one-process', { cache: true, inProcess: true });

function visibility(name: string, shape: { cache: boolean; inProcess?: boolean }): Benchmark {
  const label = `${shape.cache ? '' : ', CACHE=off'}${shape.inProcess ? ', one process' : ''}`;
  const context = shape.inProcess;
  return {
  name,
  async run(ctx) {
    const system = await startVisibilitySystem(ctx, name.replace(/[^a-z]/g, '').slice(0, 8), {
      env: { CACHE: shape.cache ? 'on' : 'off' },
      inProcess: shape.inProcess,
    });
    // Fresh processes compile their hot paths as the first thousands of requests arrive: a run
    // at the full rate, discarded, brings every process to its steady state first.
    await system.measure(Math.max(2, WARM_UP_RUN_SECONDS * ctx.scale));
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
        target: context ? 'context' : '≤ 10 ms',
        pass: context ? undefined : run.fromSent.p50 <= 10,
        notes,
      },
      {
        benchmark: `visibility p99 (command → query, ${RATE}/s${label})`,
        baseline: '-',
        subject: `${run.fromSent.p99.toFixed(1)} ms`,
        target: context ? 'context' : '≤ 50 ms',
        pass: context ? undefined : run.fromSent.p99 <= 50,
      },
    ];
  },
};
}
