import { randomUUID } from 'node:crypto';
import { cp, rm } from 'node:fs/promises';
import type { JetStreamClient, JetStreamManager, JetStreamOptions, NatsConnection } from 'nats';
import { Client, type Pool } from 'pg';
import { decodeEvent } from '../../src/contracts';
import { connectNats, eventStreamName } from '../../src/nats';
import { dropDatabase, ensureDatabase } from '../../src/postgres';
import { databaseUrl, freshDatabase, NATS_URL, TestDatabase, uniqueName } from '../../test/support/env';
import { PrivateNatsServer, startNatsServer } from '../../test/support/nats-server';
import { AppendSignal } from '../event-store/append-signal';
import { EventStore } from '../event-store/event-store';
import { productAggregate } from '../catalog/catalog.commands';
import { AggregateStore } from '../shared/aggregate-store';
import { Relay } from './relay';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const metadata = { correlationId: 'relay-test' };

interface Harness {
  db: TestDatabase;
  nc: NatsConnection;
  jsm: JetStreamManager;
  relay: Relay;
  namespace: string;
  stream: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Its own database, namespace and relay (not started) against the NATS server at url. */
async function harness(
  url: string,
  options: {
    verifyIntervalMs?: number;
    batchSize?: number;
    appendSignals?: boolean;
    idlePollMs?: number;
    checkpointIntervalMs?: number;
    wrap?: (nc: NatsConnection) => NatsConnection;
  } = {},
): Promise<Harness> {
  const { wrap = (nc: NatsConnection) => nc, ...relayOptions } = options;
  const db = await freshDatabase('write-store');
  cleanups.push(() => db.drop());
  const nc = await connectNats(url, 'relay-test');
  cleanups.push(() => nc.close());
  // Short time-outs: a request sent while the client redials is dropped and would stall the test.
  const jsm = await nc.jetstreamManager({ timeout: 500 });
  const namespace = uniqueName('cvt');
  const stream = eventStreamName(namespace);
  cleanups.push(() => jsm.streams.delete(stream));
  const relay = new Relay({ pool: db.pool, nc: wrap(nc), namespace, idleDelayMs: 5, ...relayOptions });
  cleanups.push(() => relay.stop());
  return { db, nc, jsm, relay, namespace, stream };
}

interface Published {
  eventId: string;
  txId: string;
  position: number;
  streamId: string;
  streamVersion: number;
}

/** Every message of the stream, in stream order. */
async function streamContents(jsm: JetStreamManager, stream: string): Promise<Published[]> {
  const { state } = await jsm.streams.info(stream);
  const messages: Published[] = [];
  for (let seq = state.first_seq; state.messages && seq <= state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (message) messages.push(decodeEvent(message.data));
  }
  return messages;
}

/** The relay's status checkpoint in the write store names the last event it published. */
async function expectCheckpointAtLast(h: Harness, published: Published[]): Promise<void> {
  const checkpoint = await h.db.pool.query('SELECT tx_id::text, position FROM relay_checkpoints WHERE namespace = $1', [h.namespace]);
  const last = published[published.length - 1];
  expect(checkpoint.rows[0]).toEqual({ tx_id: last.txId, position: last.position });
}

async function logInRelayOrder(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query('SELECT event_id FROM events ORDER BY tx_id, position');
  return rows.map((row) => row.event_id);
}

async function waitForMessages(jsm: JetStreamManager, stream: string, count: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await jsm.streams
      .info(stream)
      .then((info) => info.state.messages)
      .catch(() => 0);
    if (messages >= count) return;
    if (Date.now() > deadline) throw new Error(`stream ${stream} holds ${messages} of ${count} messages`);
    await sleep(25);
  }
}

/** The stream equals the log in relay order: each committed event once, nothing else, nothing reordered. */
async function expectStreamEqualsLog(h: Harness): Promise<Published[]> {
  const published = await streamContents(h.jsm, h.stream);
  expect(published.map((m) => m.eventId)).toEqual(await logInRelayOrder(h.db.pool));
  return published;
}

/** A connection whose JetStream client fails the publish calls numbered in `failing` without sending them. */
function failingPublishes(failing: Set<number>) {
  let calls = 0;
  const faulty = (js: JetStreamClient): JetStreamClient =>
    new Proxy(js, {
      get: (target, prop) =>
        prop === 'publish'
          ? (...args: Parameters<JetStreamClient['publish']>) =>
              failing.has(++calls) ? Promise.reject(new Error(`publish ${calls} lost`)) : target.publish(...args)
          : Reflect.get(target, prop),
    });
  return (nc: NatsConnection): NatsConnection =>
    new Proxy(nc, {
      get: (target, prop) => {
        if (prop === 'jetstream') return (options?: JetStreamOptions) => faulty(target.jetstream(options));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

async function appendMany(store: EventStore, streams: number, eventsPerStream: number, tag: string) {
  for (let v = 0; v < eventsPerStream; v += 1) {
    await Promise.all(
      Array.from({ length: streams }, (_, s) =>
        store.appendToStream(`${tag}-${s}`, 'thing', [{ type: 'Happened', data: { s, v } }], {
          expectedVersion: v,
          metadata,
        }),
      ),
    );
  }
}

describe('Relay (PostgreSQL → JetStream)', () => {
  it('publishes every committed event exactly once, in commit order, under concurrent slow and rolled-back appends', async () => {
    const h = await harness(NATS_URL);
    h.relay.start();
    const streamIds = Array.from({ length: 16 }, (_, i) => `thing-${i}`);
    const rolledBack = new Set<string>();
    const commits: { minPosition: number; maxPosition: number }[] = [];
    let committedEvents = 0;

    const writer = async () => {
      while (committedEvents < 2_000) {
        const count = Math.min(1 + Math.floor(Math.random() * 3), 2_000 - committedEvents);
        const streamId = streamIds[Math.floor(Math.random() * streamIds.length)];
        const client = await h.db.pool.connect();
        try {
          await client.query('BEGIN');
          await sleep(Math.random() * 3);
          // Writers of one stream take turns before taking a transaction id, so a stream's versions
          // follow its transactions' ids, as Converge's appends guarantee with their version check
          // (one that waited on a newer version writes nothing). The row lock alone would not: a
          // writer can be given its id, lose the CPU, and reach the row after a younger one.
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [streamId]);
          const { rows } = await client.query(
            `INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, 'thing', $2)
             ON CONFLICT (stream_id) DO UPDATE SET version = streams.version + $2 RETURNING version`,
            [streamId, count],
          );
          const ids = Array.from({ length: count }, () => randomUUID());
          const inserted = await client.query(
            `INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
             SELECT id, $2::text, 'thing', $3::int - $4::int + ordinality, 'Happened', 1, '{}', $5::jsonb
             FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ordinality) RETURNING position`,
            [ids, streamId, rows[0].version, count, JSON.stringify(metadata)],
          );
          const positions = inserted.rows.map((row) => row.position);
          // Some transactions hold their sequence values while later ones commit.
          await sleep(Math.random() < 0.1 ? 20 + Math.random() * 30 : Math.random() * 3);
          if (Math.random() < 0.05) {
            await client.query('ROLLBACK');
            ids.forEach((id) => rolledBack.add(id));
          } else if (committedEvents + count <= 2_000) {
            committedEvents += count; // counted before the await, so writers never overshoot together
            await client.query('COMMIT');
            commits.push({ minPosition: Math.min(...positions), maxPosition: Math.max(...positions) });
          } else {
            await client.query('ROLLBACK');
          }
        } finally {
          client.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));

    await waitForMessages(h.jsm, h.stream, 2_000);
    await h.relay.stop();
    const published = await expectStreamEqualsLog(h);
    expect(published).toHaveLength(2_000);
    expect(published.some((m) => rolledBack.has(m.eventId))).toBe(false);
    expect(rolledBack.size).toBeGreaterThan(0);
    // The commit-order case did happen: a transaction committed after one holding higher positions.
    const lateCommits = commits.filter((c, i) => commits.slice(0, i).some((earlier) => earlier.minPosition > c.maxPosition));
    expect(lateCommits.length).toBeGreaterThan(0);
    const lastVersion = new Map<string, number>();
    for (const m of published) {
      expect(m.streamVersion).toBe((lastVersion.get(m.streamId) ?? 0) + 1);
      lastVersion.set(m.streamId, m.streamVersion);
    }
    await expectCheckpointAtLast(h, published);
  });

  it('publishes a command\'s event while transactions that append nothing stay open, here and in another database', async () => {
    const h = await harness(NATS_URL);
    h.relay.start();
    const elsewhere = databaseUrl(uniqueName('cvt_other'));
    await ensureDatabase(elsewhere);
    cleanups.push(() => dropDatabase(elsewhere));
    const foreign = new Client({ connectionString: elsewhere });
    await foreign.connect();
    cleanups.push(() => foreign.end());
    await h.db.pool.query('CREATE TABLE unrelated (note text)');
    const unrelated = await h.db.pool.connect();
    cleanups.push(async () => unrelated.release(true));
    // Both take transaction ids older than the command's and stay open: a report, a migration, a forgotten session.
    await foreign.query("BEGIN; SELECT pg_current_xact_id()");
    await unrelated.query("BEGIN; INSERT INTO unrelated VALUES ('open')");

    const aggregates = new AggregateStore(new EventStore(h.db.pool));
    const price = { amount: 999, currency: 'EUR' };
    const command = { type: 'RegisterProduct', sku: 'LAMP', name: 'Lamp', description: '', price } as const;
    await aggregates.handle(productAggregate('LAMP'), command, { correlationId: 'stall-test' });
    await waitForMessages(h.jsm, h.stream, 1, 5_000);
    expect(await expectStreamEqualsLog(h)).toHaveLength(1);

    await foreign.query('ROLLBACK');
    await unrelated.query('ROLLBACK');
  });

  it('polls an idle log with an index probe, computing the horizon only when there is something to read', async () => {
    const h = await harness(NATS_URL);
    const horizons = jest.spyOn(EventStore.prototype, 'horizon');
    cleanups.push(async () => horizons.mockRestore());
    h.relay.start();
    await sleep(100);
    const before = horizons.mock.calls.length;
    // Idle at a 5 ms poll: about 40 passes, not one horizon among them.
    await sleep(200);
    expect(horizons.mock.calls.length).toBe(before);
    // An event still reaches the stream.
    const aggregates = new AggregateStore(new EventStore(h.db.pool));
    const command = { type: 'RegisterProduct', sku: 'DESK', name: 'Desk', description: '', price: { amount: 100, currency: 'EUR' } } as const;
    await aggregates.handle(productAggregate('DESK'), command, { correlationId: 'idle-test' });
    await waitForMessages(h.jsm, h.stream, 1, 5_000);
    expect(await expectStreamEqualsLog(h)).toHaveLength(1);
    expect(horizons.mock.calls.length).toBeGreaterThan(before);
  });

  it('writes its status checkpoint at most once per interval, and the position published last when it stops', async () => {
    const h = await harness(NATS_URL, { checkpointIntervalMs: 300 });
    // Counts the writes as PostgreSQL sees them (an upsert fires one of the two AFTER triggers).
    await h.db.pool.query(`
      CREATE TABLE checkpoint_writes (n int NOT NULL); INSERT INTO checkpoint_writes VALUES (0);
      CREATE FUNCTION count_checkpoint_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE checkpoint_writes SET n = n + 1; RETURN NULL; END $$;
      CREATE TRIGGER counted AFTER INSERT OR UPDATE ON relay_checkpoints FOR EACH ROW EXECUTE FUNCTION count_checkpoint_write();`);
    h.relay.start();
    const store = new EventStore(h.db.pool);
    const started = Date.now();
    // 40 events 10 ms apart: the relay (polling every 5 ms) publishes them in about as many passes.
    for (let i = 0; i < 40; i++) {
      await store.appendToStream(`cp-${i}`, 'thing', [{ type: 'Happened', data: { i } }], { expectedVersion: 0, metadata });
      await sleep(10);
    }
    await waitForMessages(h.jsm, h.stream, 40, 5_000);
    const elapsed = Date.now() - started;
    await h.relay.stop();
    const published = await expectStreamEqualsLog(h);
    const { rows } = await h.db.pool.query<{ n: number }>('SELECT n FROM checkpoint_writes');
    // One write per 300 ms (the first at once), and the last one by stop().
    expect(rows[0].n).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 2);
    expect(rows[0].n).toBeLessThan(10);
    await expectCheckpointAtLast(h, published);
  });

  describe('with append signals', () => {
    // An idle poll of a minute: within a test, only a signal (or events held back) can make the relay read.
    const signalled = () => harness(NATS_URL, { appendSignals: true, idlePollMs: 60_000 });
    const appendTo = (store: EventStore, streamId: string) =>
      store.appendToStream(streamId, 'thing', [{ type: 'Happened', data: { streamId } }], { expectedVersion: 0, metadata });
    const messages = async (h: Harness) => (await h.jsm.streams.info(h.stream)).state.messages;

    it('wakes an idle relay at once for a signalled append; an unsignalled one waits for the idle poll', async () => {
      const h = await signalled();
      h.relay.start();
      await sleep(300); // caught up on an empty log: asleep until a signal or the poll
      await appendTo(new EventStore(h.db.pool), 'unsignalled');
      await sleep(1_000);
      expect(await messages(h)).toBe(0);

      const signal = new AppendSignal(h.namespace);
      signal.attach(h.nc);
      await appendTo(new EventStore(h.db.pool, signal), 'signalled');
      await waitForMessages(h.jsm, h.stream, 2, 5_000);
      expect((await expectStreamEqualsLog(h)).map((m) => m.streamId)).toEqual(['unsignalled', 'signalled']);
    });

    it('keeps polling while an appending transaction holds a signalled event back, and publishes it once that one rolls back', async () => {
      const h = await signalled();
      h.relay.start();
      await sleep(300);
      // A slow append: it holds the marker and an older transaction id, and will roll back without a signal.
      const slow = await h.db.pool.connect();
      cleanups.push(async () => slow.release(true));
      await slow.query('BEGIN; SELECT take_append_marker(); SELECT pg_current_xact_id()');
      const signal = new AppendSignal(h.namespace);
      signal.attach(h.nc);
      await appendTo(new EventStore(h.db.pool, signal), 'held-back');
      await sleep(500);
      expect(await messages(h)).toBe(0); // the horizon is the slow transaction's id

      await slow.query('ROLLBACK');
      await waitForMessages(h.jsm, h.stream, 1, 5_000);
      expect((await expectStreamEqualsLog(h)).map((m) => m.streamId)).toEqual(['held-back']);
    });
  });

  describe('with a private NATS server', () => {
    /** Disposed after everything that uses it (cleanups run in reverse). */
    async function privateServer(): Promise<PrivateNatsServer> {
      const server = await startNatsServer();
      cleanups.push(() => server.dispose());
      return server;
    }

    it('keeps appends working while NATS is down and publishes them exactly once when it returns', async () => {
      const server = await privateServer();
      const h = await harness(server.url);
      const store = new EventStore(h.db.pool);
      h.relay.start();
      await appendMany(store, 5, 10, 'before');
      await waitForMessages(h.jsm, h.stream, 50);

      await server.stop();
      await appendMany(store, 10, 10, 'during');
      const during = await h.relay.status();
      expect(during.lastError).toMatch(/disconnected/);
      expect(during.head).toBeGreaterThan(during.published!.position);
      expect(during.streamSequence).toBe(50);

      await server.restart();
      await waitForMessages(h.jsm, h.stream, 150);
      await sleep(200);
      expect(await expectStreamEqualsLog(h)).toHaveLength(150);
      expect((await h.relay.status()).lastError).toBeUndefined();
    });

    it('republishes from the log when NATS comes back without messages it had acknowledged', async () => {
      const server = await privateServer();
      const h = await harness(server.url, { verifyIntervalMs: 100 });
      const store = new EventStore(h.db.pool);
      h.relay.start();
      await appendMany(store, 6, 10, 'first');
      await waitForMessages(h.jsm, h.stream, 60);

      // Snapshot the store as it is now, let more messages be acknowledged, then roll NATS back to it.
      await server.stop();
      const snapshot = `${server.storeDir}-snapshot`;
      await cp(server.storeDir, snapshot, { recursive: true });
      await server.restart();
      await appendMany(store, 6, 10, 'second');
      await waitForMessages(h.jsm, h.stream, 120);
      await server.stop();
      await rm(server.storeDir, { recursive: true, force: true });
      await cp(snapshot, server.storeDir, { recursive: true });
      await rm(snapshot, { recursive: true, force: true });
      await server.restart();

      await waitForMessages(h.jsm, h.stream, 120);
      await appendMany(store, 2, 5, 'third');
      await waitForMessages(h.jsm, h.stream, 130);
      await sleep(200);
      expect(await expectStreamEqualsLog(h)).toHaveLength(130);
      expect((await h.relay.status()).streamSequence).toBe(130);
    });
  });

  it('lets no publish overtake one that failed in the middle of a pipelined batch', async () => {
    const h = await harness(NATS_URL, { batchSize: 100, wrap: failingPublishes(new Set([10, 150])) });
    await appendMany(new EventStore(h.db.pool), 20, 10, 'piped');
    h.relay.start();
    await waitForMessages(h.jsm, h.stream, 200);
    await sleep(200);
    // Without expected sequences the publishes after a lost one would land before its republish.
    expect(await expectStreamEqualsLog(h)).toHaveLength(200);
  });

  it('republishes everything into a stream that was deleted under it', async () => {
    const h = await harness(NATS_URL, { verifyIntervalMs: 100 });
    const store = new EventStore(h.db.pool);
    h.relay.start();
    await appendMany(store, 4, 10, 'kept');
    await waitForMessages(h.jsm, h.stream, 40);
    await h.jsm.streams.delete(h.stream);

    await waitForMessages(h.jsm, h.stream, 40);
    await sleep(200);
    expect(await expectStreamEqualsLog(h)).toHaveLength(40);
  });

  it('stops only after the batch in flight is published, leaving the stream a prefix of the log', async () => {
    const h = await harness(NATS_URL, { batchSize: 50 });
    await appendMany(new EventStore(h.db.pool), 10, 30, 'bulk');
    h.relay.start();
    while ((await h.relay.status()).streamSequence === 0) await sleep(1);
    await h.relay.stop();
    const { published, streamSequence } = await h.relay.status();
    await sleep(200);
    const contents = await streamContents(h.jsm, h.stream);
    // Nothing still in flight landed after stop() returned, and the status says exactly where the relay got to.
    expect(contents).toHaveLength(streamSequence);
    expect(contents.map((m) => m.eventId)).toEqual((await logInRelayOrder(h.db.pool)).slice(0, streamSequence));
    expect(published?.position).toBe(contents[contents.length - 1].position);
  });
});
