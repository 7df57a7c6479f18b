import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dropDatabase, migrate } from '../src/postgres';
import type { RebuildResult } from '../read-model/rebuild/rebuild';
import { Benchmark, databaseUrl, freshDatabase, loadAverage, NATS_URL, rate, scaled, uniqueName } from './harness';
import { growMixedLog } from './support/mixed-log';

const EVENTS = 1_000_000;
const ROUNDS = 2;
const TARGET = 50_000;

/**
 * `converge rebuild --all` (the CLI itself, in its own process, default batch size) over a
 * write store grown by SQL to 1,000,000 valid events: products, stock movements and orders, so
 * every projection has work. Rate: events replayed (each projection counts the events it
 * handles) over the rebuilds' own time, start → swap after the last checkpoint, as the CLI
 * reports them. Absolute like visibility, so the load average is printed with it.
 */
export const rebuildBenchmark: Benchmark = {
  name: 'rebuild',
  async run(ctx) {
    const target = scaled(ctx, EVENTS, 20_000);
    const write = await freshDatabase(ctx, 'cvb_rebuild', 'write-store', 2);
    const grownAt = performance.now();
    const log = await growMixedLog(write.pool, target);
    ctx.log(`grew the log to ${log.events.toLocaleString('en-US')} events (${log.skus} skus, ${log.orders} orders) in ${((performance.now() - grownAt) / 1000).toFixed(1)} s`);
    const readUrl = databaseUrl(uniqueName('cvb_rebuild_read'));
    ctx.defer(() => dropDatabase(readUrl));
    await migrate(readUrl, 'read-store');

    const rounds: { results: RebuildResult[]; wall: number; load: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const results = await converge(['rebuild', '--all', '--json'], { DATABASE_URL: write.url, READ_STORE_URL: readUrl });
      rounds.push({ results, wall: (performance.now() - started) / 1000, load: loadAverage() });
      ctx.log(`round ${round + 1}: ${results.map((r) => `${r.projection} ${r.eventsPerSecond}/s`).join(', ')}`);
    }
    const replayed = (results: RebuildResult[]) => results.reduce((sum, r) => sum + r.replayed, 0);
    const seconds = (results: RebuildResult[]) => results.reduce((sum, r) => sum + r.seconds, 0);
    const all = rounds.flatMap((r) => r.results);
    const measured = replayed(all) / seconds(all);
    const perProjection = rounds[0].results.map((first) => {
      const runs = all.filter((r) => r.projection === first.projection);
      return `${first.projection} ${first.replayed.toLocaleString('en-US')} events at ${runs.map((r) => rate(r.eventsPerSecond, 'events/s')).join(', ')}`;
    });
    return [
      {
        benchmark: `rebuild --all over ${log.events.toLocaleString('en-US')} events`,
        baseline: '-',
        subject: rate(measured, 'events/s'),
        target: `≥ ${TARGET.toLocaleString('en-US')} events/s`,
        pass: measured >= TARGET,
        notes: [
          `per-round ${rounds.map((r) => `${rate(replayed(r.results) / seconds(r.results), 'events/s')} (${seconds(r.results).toFixed(1)} s rebuilding, ${r.wall.toFixed(1)} s whole process, load ${r.load})`).join('; ')}`,
          `per projection (events replayed, rate each round): ${perProjection.join('; ')}`,
          `the log: ${log.skus} skus (50 product + 450 stock events each), ${log.orders} orders (5 events each), ${log.transactions} transactions; ` +
            `every projection reads the events it handles, so the ${ROUNDS} rounds replayed ${replayed(all).toLocaleString('en-US')} events`,
        ],
      },
    ];
  },
};

const CLI = join(__dirname, '..', 'src', 'cli', 'converge.js');

/** Runs the built CLI with `--json` and returns what it printed on stdout. */
async function converge(args: string[], env: Record<string, string>): Promise<RebuildResult[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env, NATS_URL, CONVERGE_NAMESPACE: uniqueName('cvbrebuild'), LOG_LEVEL: 'warn' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as RebuildResult[];
}
