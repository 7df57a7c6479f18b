import { EventStore, ConcurrencyError, DuplicateRequest } from './event-store';
import { freshDatabase, TestDatabase } from '../../test/support/env';
import { eventually } from '../../test/support/system';

describe('EventStore (PostgreSQL)', () => {
  let db: TestDatabase;
  let store: EventStore;
  const metadata = { correlationId: 'c-1', actor: 'test' };

  beforeAll(async () => {
    db = await freshDatabase('write-store');
    store = new EventStore(db.pool);
  });
  afterAll(() => db.drop());

  it('appends with an expected version and reads the stream back in order', async () => {
    const first = await store.appendToStream('s-1', 'thing', [{ type: 'A', data: { n: 1 } }], {
      expectedVersion: 0,
      metadata,
    });
    expect(first.versions['s-1']).toBe(1);
    await store.appendToStream('s-1', 'thing', [{ type: 'B', data: { n: 2 } }, { type: 'C', data: {} }], {
      expectedVersion: 1,
      metadata,
    });
    const { version, events } = await store.readStream('s-1');
    expect(version).toBe(3);
    expect(events.map((e) => [e.type, e.streamVersion])).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ]);
    expect(events[0].metadata).toEqual(metadata);
    expect(events[0].eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a stale expected version and writes nothing', async () => {
    await store.appendToStream('s-2', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
    await expect(
      store.appendToStream('s-2', 'thing', [{ type: 'B', data: {} }], { expectedVersion: 0, metadata }),
    ).rejects.toEqual(expect.objectContaining({ name: 'ConcurrencyError', actualVersion: 1 }));
    expect((await store.readStream('s-2')).version).toBe(1);
  });

  it('lets exactly one of many concurrent appends at the same version win', async () => {
    await store.appendToStream('s-3', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.appendToStream('s-3', 'thing', [{ type: 'B', data: { i } }], { expectedVersion: 1, metadata }),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const rejected = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(rejected.every((a) => a.reason instanceof ConcurrencyError)).toBe(true);
    expect((await store.readStream('s-3')).events).toHaveLength(2);
  });

  it('checks a guarded stream without appending to it', async () => {
    await store.appendToStream('guard', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
    await expect(
      store.append(
        [
          { streamId: 'guard', streamType: 'thing', expectedVersion: 0, events: [] },
          { streamId: 's-4', streamType: 'thing', expectedVersion: 0, events: [{ type: 'A', data: {} }] },
        ],
        { metadata },
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream('s-4')).version).toBe(0);
  });

  it('records an idempotency key with the outcome in the same transaction', async () => {
    const idempotency = { scope: 'POST /things', key: 'k-1', requestHash: 'h' };
    await store.append([{ streamId: 's-5', streamType: 'thing', expectedVersion: 0, events: [{ type: 'A', data: {} }] }], {
      metadata,
      idempotency,
      response: (r) => ({ version: r.versions['s-5'] }),
    });
    await expect(
      store.append([{ streamId: 's-6', streamType: 'thing', expectedVersion: 0, events: [{ type: 'A', data: {} }] }], {
        metadata,
        idempotency,
      }),
    ).rejects.toBeInstanceOf(DuplicateRequest);
    expect(await store.storedOutcome('POST /things', 'k-1')).toEqual({ requestHash: 'h', response: { version: 1 } });
    expect((await store.readStream('s-6')).version).toBe(0);
  });

  it('reads the log in (transaction, position) order, only from finished transactions', async () => {
    const open = await db.pool.connect();
    try {
      await open.query('BEGIN');
      await open.query(
        `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
         VALUES (gen_random_uuid(), 'slow', 'thing', 1, 'A', 1, '{}', '{}')`,
      );
      await store.appendToStream('fast', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
      const whileOpen = await store.readAllAfter({ txId: '0', position: 0 }, 1000);
      expect(whileOpen.map((e) => e.streamId)).not.toContain('slow');
      expect(whileOpen.map((e) => e.streamId)).not.toContain('fast');
      await open.query('COMMIT');
    } finally {
      open.release();
    }
    // The horizon is cluster-wide: another session's older open transaction may hold it back a moment.
    const after = await eventually(async () => {
      const read = await store.readAllAfter({ txId: '0', position: 0 }, 1000);
      const streams = read.map((e) => e.streamId);
      return streams.includes('slow') && streams.includes('fast') ? read : undefined;
    }, 10_000, 'both transactions to pass the horizon');
    const keys = after.map((e) => [BigInt(e.txId), e.position] as const);
    const sorted = [...keys].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    expect(keys).toEqual(sorted);
  });

  it('reads past transactions that append nothing, but not past an appender that is still open', async () => {
    await db.pool.query('CREATE TABLE notes (note text)');
    const unrelated = await db.pool.connect();
    const appender = await db.pool.connect();
    try {
      await unrelated.query("BEGIN; INSERT INTO notes VALUES ('open')");
      const { events } = await store.appendToStream('past-unrelated', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
      const read = await store.readAllAfter({ txId: '0', position: 0 }, 10_000);
      expect(read.map((e) => e.eventId)).toContain(events[0].eventId);

      await appender.query("BEGIN; INSERT INTO streams VALUES ('held-back', 'thing', 1)");
      const after = await store.appendToStream('behind-appender', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
      const held = await store.readAllAfter({ txId: '0', position: 0 }, 10_000);
      expect(held.map((e) => e.eventId)).not.toContain(after.events[0].eventId);
      await appender.query('ROLLBACK');
      const released = await store.readAllAfter({ txId: '0', position: 0 }, 10_000);
      expect(released.map((e) => e.eventId)).toContain(after.events[0].eventId);
    } finally {
      await unrelated.query('ROLLBACK');
      unrelated.release();
      appender.release();
    }
  });

  it('refuses to write the log from a transaction that took its id before the append marker', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN; SELECT pg_current_xact_id()');
      await expect(
        client.query(
          `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
           VALUES (gen_random_uuid(), 'too-late', 'thing', 1, 'A', 1, '{}', '{}')`,
        ),
      ).rejects.toThrow(/take the append marker/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('orders transaction ids as numbers, not as text (999 before 1000)', async () => {
    // tx_id is selected as text; ordering by that alias would put '1000' before '999'.
    await db.pool.query(
      `INSERT INTO events (tx_id, event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
       VALUES ('1000'::xid8, gen_random_uuid(), 'digits', 'thing', 2, 'B', 1, '{}', '{}'),
              ('999'::xid8, gen_random_uuid(), 'digits', 'thing', 1, 'A', 1, '{}', '{}')`,
    );
    const read = await store.readAllAfter({ txId: '0', position: 0 }, 2);
    expect(read.map((e) => e.txId)).toEqual(['999', '1000']);
    const next = await store.readAllAfter({ txId: '999', position: read[0].position }, 1);
    expect(next.map((e) => e.txId)).toEqual(['1000']);
  });

  it('names as head the last event in relay order, which need not hold the largest position', async () => {
    const early = await db.pool.connect();
    try {
      await early.query('BEGIN');
      // Takes its transaction id before the other append (an appender takes the marker first).
      await early.query('SELECT take_append_marker(), pg_current_xact_id()');
      const later = await store.appendToStream('head-later', 'thing', [{ type: 'A', data: {} }], { expectedVersion: 0, metadata });
      await early.query(
        `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
         VALUES (gen_random_uuid(), 'head-early', 'thing', 1, 'A', 1, '{}', '{}')`,
      );
      await early.query('COMMIT');
      const { rows } = await db.pool.query(`SELECT max(position)::int AS max FROM events`);
      expect(rows[0].max).toBeGreaterThan(later.lastPosition);
      const head = await store.head();
      expect({ position: head.lastPosition, txId: head.lastTxId }).toEqual({ position: later.lastPosition, txId: later.txId });
    } finally {
      early.release();
    }
  });

  it('upcasts ProductRegistered v1 (price in cents) to v2 on read', async () => {
    await db.pool.query(
      `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
       VALUES (gen_random_uuid(), 'product-OLD', 'product', 1, 'ProductRegistered', 1,
               '{"sku":"OLD","name":"Old","description":"","price":1999}', '{}')`,
    );
    const [event] = (await store.readStream('product-OLD')).events;
    expect(event.schemaVersion).toBe(2);
    expect(event.data).toEqual(expect.objectContaining({ price: { amount: 1999, currency: 'EUR' } }));
  });
});
