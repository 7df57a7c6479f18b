import { decodeToken, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { freshDatabase, TestDatabase } from '../../test/support/env';
import { eventually } from '../../test/support/system';
import { stockDecider } from '../inventory/stock.decider';
import { AggregateStore, SNAPSHOT_EVERY } from '../shared/aggregate-store';
import { EventStore } from './event-store';

const metadata = { correlationId: 'snapshots' };
const version = stockDecider.snapshot!.version;

describe('snapshots (PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    db = await freshDatabase('write-store');
    store = new EventStore(db.pool);
  });
  afterAll(() => db.drop());

  /** Receipts of 1 unit each, appended in batches so that even long streams take little time. */
  async function receipts(sku: string, count: number) {
    const streamId = stockStreamId(sku);
    for (let done = 0; done < count; ) {
      const batch = Math.min(500, count - done);
      const events = Array.from({ length: batch }, (_, i) => ({
        type: 'StockReceived',
        data: { sku, onHand: done + i + 1, reserved: 0, quantity: 1 },
      }));
      await store.appendToStream(streamId, STOCK_STREAM, events, { expectedVersion: done, metadata });
      done += batch;
    }
    return streamId;
  }

  const stored = async (streamId: string) =>
    (await db.pool.query('SELECT snapshot_version, stream_version, state FROM snapshots WHERE stream_id = $1', [streamId])).rows[0];

  it('reads a snapshot with the events after it, and only one of the version asked for', async () => {
    const streamId = await receipts('TAIL', 5);
    const [, , third] = (await store.readStream(streamId)).events;
    const last = { txId: third.txId, position: third.position, recordedAt: third.recordedAt };
    await store.saveSnapshot({ streamId, snapshotVersion: 7, streamVersion: 3, state: { onHand: 3 }, last });

    const tail = (await store.readTails([{ streamId, snapshotVersion: 7 }])).get(streamId)!;
    expect(tail.snapshot).toEqual({ streamId, snapshotVersion: 7, streamVersion: 3, state: { onHand: 3 }, last });
    expect(tail.events.map((e) => e.streamVersion)).toEqual([4, 5]);
    expect(tail.version).toBe(5);

    const other = (await store.readTails([{ streamId, snapshotVersion: 8 }, { streamId: 'none' }])).get(streamId)!;
    expect(other.snapshot).toBeUndefined();
    expect(other.events).toHaveLength(5);
  });

  it('never replaces a snapshot with an older one of the same version, always one of another version', async () => {
    const streamId = await receipts('ORDERLY', 4);
    const [, second, , fourth] = (await store.readStream(streamId)).events;
    const at = (e: typeof second) => ({ txId: e.txId, position: e.position, recordedAt: e.recordedAt });
    await store.saveSnapshot({ streamId, snapshotVersion: 1, streamVersion: 4, state: { n: 4 }, last: at(fourth) });
    await store.saveSnapshot({ streamId, snapshotVersion: 1, streamVersion: 2, state: { n: 2 }, last: at(second) });
    expect(await stored(streamId)).toMatchObject({ snapshot_version: 1, stream_version: 4 });
    await store.saveSnapshot({ streamId, snapshotVersion: 2, streamVersion: 2, state: { n: 2 }, last: at(second) });
    expect(await stored(streamId)).toMatchObject({ snapshot_version: 2, stream_version: 2 });
  });

  it('ignores a snapshot an older snapshot version wrote, folds the events and replaces it', async () => {
    const streamId = await receipts('OLDER', 6);
    const first = (await store.readStream(streamId)).events[5];
    const last = { txId: first.txId, position: first.position, recordedAt: first.recordedAt };
    await store.saveSnapshot({ streamId, snapshotVersion: version - 1, streamVersion: 6, state: { onHand: 999, reserved: 0, sku: 'OLDER', reservations: {} }, last });

    const aggregates = new AggregateStore(store, { snapshotEvery: 3 });
    const loaded = await aggregates.load(stockDecider, streamId);
    expect(loaded).toMatchObject({ version: 6, state: { onHand: 6, reservations: {} } });
    await eventually(async () => ((await stored(streamId))?.snapshot_version === version ? true : undefined), 5_000, 'the snapshot to be replaced');
    expect(await stored(streamId)).toMatchObject({ stream_version: 6, state: { onHand: 6 } });
  });

  it('loads a long stream from its snapshot, and answers a no-op with the last event it names', async () => {
    const streamId = await receipts('LONG', 2_000);
    const aggregates = new AggregateStore(store);
    await aggregates.load(stockDecider, streamId);
    await eventually(async () => ((await stored(streamId))?.stream_version === 2_000 ? true : undefined), 5_000, 'a snapshot');
    const tail = (await store.readTails([{ streamId, snapshotVersion: version }])).get(streamId)!;
    expect(tail.events.length).toBeLessThan(SNAPSHOT_EVERY);

    const head = await store.head();
    const noOp = await aggregates.handle(
      { id: 'LONG', streamId, streamType: STOCK_STREAM, decider: stockDecider },
      { type: 'ReleaseStock', sku: 'LONG', orderId: 'nobody' },
      metadata,
    );
    expect(noOp.version).toBe(2_000);
    // The stream is loaded from the snapshot alone, which names the last event: the token locates it.
    expect(decodeToken(noOp.token)).toMatchObject({ position: head.lastPosition, txId: head.lastTxId, version: 2_000 });
  });
});
