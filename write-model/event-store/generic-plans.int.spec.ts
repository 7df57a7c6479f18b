import { Pool } from 'pg';
import { STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { freshDatabase, TestDatabase } from '../../test/support/env';
import { EventStore } from './event-store';

const metadata = { correlationId: 'generic-plans' };

/**
 * The statements that run for every command (read-tails) and every poll of the relay
 * (has-events-after, read-all-after) are prepared, and PostgreSQL switches a prepared statement to a generic
 * plan after five runs when that plan looks no dearer. Whichever plan it caches, they must
 * read through the indexes: a plan that scans the events table makes every command or poll
 * cost as much as the whole log. Here every plan is generic (plan_cache_mode), and the table's
 * sequential-scan counter must not move.
 */
describe('prepared event-store reads under a generic plan', () => {
  let db: TestDatabase;
  let generic: Pool;
  let store: EventStore;

  beforeAll(async () => {
    db = await freshDatabase('write-store');
    const setup = new EventStore(db.pool);
    // A log of a few thousand events, so a whole-table scan is not free either.
    for (let sku = 0; sku < 40; sku++) {
      const events = Array.from({ length: 100 }, (_, i) => ({ type: 'StockReceived', data: { sku: `S${sku}`, quantity: 1, n: i } }));
      await setup.appendToStream(stockStreamId(`S${sku}`), STOCK_STREAM, events, { expectedVersion: 0, metadata });
    }
    await db.pool.query('ANALYZE events');
    // One connection, so the statistics flushed below are the ones its statements counted.
    generic = new Pool({ connectionString: db.url, max: 1, options: '-c plan_cache_mode=force_generic_plan' });
    store = new EventStore(generic);
  });
  afterAll(async () => {
    await generic.end();
    await db.drop();
  });

  /** Sequential scans of events so far, this connection's counts included. */
  async function eventScans(): Promise<number> {
    await generic.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await db.pool.query<{ n: string }>("SELECT seq_scan AS n FROM pg_stat_user_tables WHERE relname = 'events'");
    return Number(rows[0].n);
  }

  it('loads a stream tail through the indexes', async () => {
    const streamId = stockStreamId('S7');
    const { events } = await store.readStream(streamId);
    const last = events[49];
    await store.saveSnapshot({
      streamId,
      snapshotVersion: 1,
      streamVersion: 50,
      state: { onHand: 50 },
      last: { txId: last.txId, position: last.position, recordedAt: last.recordedAt },
    });
    const before = await eventScans();
    for (let i = 0; i < 8; i++) {
      const tails = await store.readTails([{ streamId, snapshotVersion: 1 }, { streamId: stockStreamId('S8') }]);
      expect(tails.get(streamId)!.events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 50 }, (_, j) => 51 + j));
      expect(tails.get(stockStreamId('S8'))!.events).toHaveLength(100);
    }
    expect(await eventScans()).toBe(before);
  });

  it("answers the relay's idle probe and reads its next batch through the index", async () => {
    const { rows } = await db.pool.query<{ tx: string; position: number }>(
      'SELECT tx_id::text AS tx, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1',
    );
    const head = { txId: rows[0].tx, position: Number(rows[0].position) };
    const before = await eventScans();
    for (let i = 0; i < 8; i++) {
      expect(await store.hasEventsAfter(head)).toBe(false);
      expect(await store.hasEventsAfter({ txId: head.txId, position: head.position - 1 })).toBe(true);
      expect(await store.readAllAfter(head, 100)).toEqual([]);
      expect((await store.readAllAfter({ txId: head.txId, position: head.position - 3 }, 100)).map((e) => e.position)).toEqual(
        [2, 1, 0].map((back) => head.position - back),
      );
    }
    expect(await eventScans()).toBe(before);
  });
});
