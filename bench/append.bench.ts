import { randomUUID } from 'node:crypto';
import { EventStore } from '../write-model/event-store/event-store';
import { openEmmett } from './emmett';
import { Benchmark, closedLoopRate, freshDatabase, payloadOfSize, rate, ratioRow, scaled, sideBySide } from './harness';

export const APPEND_CONCURRENCY = 32;
export const EVENT_BYTES = 400;

/** The event both stores append: one ~400-byte event to a new stream, expected version "none". */
export const benchEventData = () => payloadOfSize(EVENT_BYTES, { sku: 'BENCH-0001', quantity: 1, onHand: 1, reserved: 0 });

/** Emmett's appendToStream at the given concurrency: one event to a new stream per call. */
export function emmettAppender(store: Awaited<ReturnType<typeof openEmmett>>['store'], tag: string) {
  const data = benchEventData();
  return (round: number, worker: number, i: number) =>
    store
      .appendToStream(`emmett-${tag}-${round}-${worker}-${i}`, [{ type: 'BenchEventRecorded', data }], {
        expectedStreamVersion: 0n,
      })
      .then(() => undefined);
}

/**
 * Event store append rate vs Emmett's appendToStream, side by side at the same concurrency,
 * pool size and event size; raw single-row INSERTs of the same jsonb for context.
 */
export const appendBenchmark: Benchmark = {
  name: 'append',
  async run(ctx) {
    const concurrency = APPEND_CONCURRENCY;
    const ours = await freshDatabase(ctx, 'cvb_append', 'write-store', concurrency);
    const emmettDb = await freshDatabase(ctx, 'cvb_emmett', undefined, 1);
    const raw = await freshDatabase(ctx, 'cvb_raw', undefined, concurrency);
    const emmett = await openEmmett(emmettDb.url, concurrency);
    ctx.defer(() => emmett.close());
    await raw.pool.query('CREATE TABLE raw_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL)');

    const store = new EventStore(ours.pool);
    const data = benchEventData();
    const appendOurs = (round: number, worker: number, i: number) =>
      store
        .appendToStream(`ours-${round}-${worker}-${i}`, 'bench', [{ type: 'BenchEventRecorded', data }], {
          expectedVersion: 0,
          metadata: { correlationId: randomUUID() },
        })
        .then(() => undefined);
    const appendEmmett = emmettAppender(emmett.store, 'append');
    const json = JSON.stringify(data);
    const insertRaw = () => raw.pool.query('INSERT INTO raw_events (data) VALUES ($1)', [json]).then(() => undefined);

    const roundMs = scaled(ctx, 2_500, 300);
    // Warm-up: JIT, connection pools, plan caches.
    await closedLoopRate(concurrency, 400, (w, i) => appendOurs(-1, w, i));
    await closedLoopRate(concurrency, 400, (w, i) => appendEmmett(-1, w, i));
    await closedLoopRate(concurrency, 400, () => insertRaw());

    const measured = await sideBySide(
      4,
      (round) => closedLoopRate(concurrency, roundMs, (w, i) => appendEmmett(round, w, i)),
      (round) => closedLoopRate(concurrency, roundMs, (w, i) => appendOurs(round, w, i)),
    );
    ctx.log(`append: emmett ${rate(measured.baseline, 'ev/s')}, ours ${rate(measured.subject, 'ev/s')}`);
    const context = await sideBySide(
      2,
      () => closedLoopRate(concurrency, roundMs / 2, () => insertRaw()),
      (round) => closedLoopRate(concurrency, roundMs / 2, (w, i) => appendOurs(100 + round, w, i)),
    );
    const { rows } = await ours.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    const size = Buffer.byteLength(json);
    return [
      // DESIGN.md's budget: ≥ 2.5× Emmett's rate and ≥ 0.9× a raw 1-row INSERT at the same concurrency.
      ratioRow('append vs Emmett appendToStream', measured, 'ev/s', 2.5, '≥ 2.5×', [
        `${concurrency} concurrent appenders, pool ${concurrency} each, 1 event of ${size} B data per append, new stream, expected version`,
        `${rows[0].n} events appended by ours in total`,
      ]),
      ratioRow('append vs raw 1-row INSERT', context, 'tx/s', 0.9, '≥ 0.9×'),
    ];
  },
};
