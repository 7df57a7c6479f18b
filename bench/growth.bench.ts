import type { Pool } from 'pg';
import { currentSchemaVersion, STOCK_STREAM, stockStreamId } from '../src/contracts';
import { startCommandApi } from '../src/processes/command-api';
import { Benchmark, freshDatabase, scaled, waitFor } from './harness';
import { benchConfig, benchSku, jsonRequest, registerProducts } from './system';

const SHORT = 100;
const LONG = 100_000;
const ROUNDS = 4;
const COMMANDS_PER_ROUND = 200;

/**
 * A command's latency on a stock stream of 100 events vs one of 100,000 (grown by SQL with
 * valid StockReceived events), POST /inventory/{sku}/receipts one at a time over keep-alive
 * HTTP, the two streams alternating in ABBA rounds. The long stream's first load folds every
 * event once and saves a snapshot; the rounds start after it.
 */
export const growthBenchmark: Benchmark = {
  name: 'growth',
  async run(ctx) {
    const long = scaled(ctx, LONG, 10_000);
    const write = await freshDatabase(ctx, 'cvb_growth', 'write-store', 2);
    // Every command loads its stream: with kept aggregates (AGGREGATE_CACHE_SIZE) a command on either stream would read
    // nothing, so the row would not tell whether a load's cost grows with the stream, which every command pays after a
    // restart or once another process wrote the stream.
    const config = await benchConfig({ writeUrl: write.url, env: { AGGREGATE_CACHE_SIZE: '0' } });
    const api = await startCommandApi(config, ctx.logger);
    ctx.defer(() => api.stop());
    const commandUrl = `http://127.0.0.1:${config.commandApiPort}`;
    await registerProducts(commandUrl, 2);
    const [shortSku, longSku] = [benchSku(0), benchSku(1)];
    await grow(write.pool, shortSku, SHORT);
    await grow(write.pool, longSku, long);

    const receipt = async (sku: string) => {
      const started = performance.now();
      const res = await jsonRequest('POST', `${commandUrl}/inventory/${sku}/receipts`, { quantity: 1 });
      if (res.status !== 200) throw new Error(`receipt for ${sku}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      return performance.now() - started;
    };
    const firstLoad = await receipt(longSku);
    await waitFor(async () => (await snapshotVersion(write.pool, longSku)) >= long, 30_000, 'the long stream\'s snapshot', 20);
    for (let i = 0; i < 50; i++) await Promise.all([receipt(shortSku), receipt(longSku)]);

    const commands = scaled(ctx, COMMANDS_PER_ROUND, 50);
    const latencies = { short: [] as number[], long: [] as number[] };
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['short', 'long'] as const) : (['long', 'short'] as const);
      const medians: Record<string, number> = {};
      for (const side of order) {
        const sku = side === 'short' ? shortSku : longSku;
        const measured: number[] = [];
        for (let i = 0; i < commands; i++) measured.push(await receipt(sku));
        latencies[side].push(...measured);
        medians[side] = percentile(measured, 0.5);
      }
      perRound.push(medians.long / medians.short);
    }
    const short = { p50: percentile(latencies.short, 0.5), p99: percentile(latencies.short, 0.99) };
    const longP = { p50: percentile(latencies.long, 0.5), p99: percentile(latencies.long, 0.99) };
    const ratio = longP.p50 / short.p50;
    const { rows } = await write.pool.query<{ stream_id: string; stream_version: number }>(
      'SELECT stream_id, stream_version FROM snapshots WHERE stream_id = ANY($1) ORDER BY stream_id',
      [[stockStreamId(shortSku), stockStreamId(longSku)]],
    );
    return [
      {
        benchmark: 'growth: command on 100,000 vs 100 events',
        baseline: `${short.p50.toFixed(2)} ms p50`,
        subject: `${longP.p50.toFixed(2)} ms p50`,
        ratio,
        target: '≤ 1.5×',
        pass: ratio <= 1.5,
        notes: [
          `per-round p50 ratios ${perRound.map((r) => r.toFixed(2)).join(' ')}; p99 ${short.p99.toFixed(2)} ms vs ${longP.p99.toFixed(2)} ms`,
          `POST /inventory/{sku}/receipts one at a time, ${commands} per side per round; streams of ${SHORT} and ${long.toLocaleString('en-US')} events ` +
            `(grown by SQL), ${ROUNDS * commands + 50} more each during the run; the long stream's first command (folds it all, saves the snapshot) took ${firstLoad.toFixed(0)} ms`,
          `snapshots at the end: ${rows.map((r) => `${r.stream_id} v${r.stream_version}`).join(', ')}`,
          'AGGREGATE_CACHE_SIZE=0: every command reads its snapshot and tail, as after a restart or another process\'s append',
        ],
      },
    ];
  },
};

/** Appends `count` valid receipts of 1 unit to the sku's stock stream in one statement. */
async function grow(pool: Pool, sku: string, count: number): Promise<void> {
  const streamId = stockStreamId(sku);
  await pool.query(
    `WITH receipts AS (
       INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
       SELECT gen_random_uuid(), $1, $2, v, 'StockReceived', $4,
              jsonb_build_object('sku', $5::text, 'onHand', v, 'reserved', 0, 'quantity', 1), '{"correlationId":"bench-growth"}'
         FROM generate_series(1, $3::int) AS v
       RETURNING 1
     )
     INSERT INTO streams (stream_id, stream_type, version) SELECT $1, $2, $3 WHERE (SELECT count(*) FROM receipts) = $3`,
    [streamId, STOCK_STREAM, count, currentSchemaVersion.StockReceived ?? 1, sku],
  );
}

async function snapshotVersion(pool: Pool, sku: string): Promise<number> {
  const { rows } = await pool.query<{ stream_version: number }>('SELECT stream_version FROM snapshots WHERE stream_id = $1', [stockStreamId(sku)]);
  return rows[0]?.stream_version ?? 0;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
