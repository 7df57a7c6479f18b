import { Client } from 'pg';
import { databaseUrl, freshDatabase, PG_BASE_URL, TestDatabase, uniqueName } from '../../test/support/env';
import { dropDatabase } from '../../src/postgres';
import { orderKey } from '../../src/contracts/envelope';
import { createViewStore, UnsupportedReadStoreError } from './create-view-store';
import { PostgresViewStore, PreparedStatements } from './postgres-view-store';
import { viewStoreConformance } from '../../test/support/view-store-conformance';

viewStoreConformance('PostgreSQL', async () => {
  const db = await freshDatabase('read-store', 'cvvs');
  const store = await createViewStore(db.url);
  return {
    store,
    async teardown() {
      await store.close();
      await db.drop();
    },
  };
});

describe('PostgresViewStore', () => {
  let db: TestDatabase;
  let store: PostgresViewStore;

  beforeAll(async () => {
    db = await freshDatabase('read-store', 'cvvs');
    store = new PostgresViewStore(db.url);
    await store.init(); // the migration already ran: init must cope
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('is chosen by createViewStore for postgres:// and postgresql:// URLs', async () => {
    for (const url of [db.url, db.url.replace(/^postgres:/, 'postgresql:')]) {
      const chosen = await createViewStore(url);
      expect(chosen).toBeInstanceOf(PostgresViewStore);
      await chosen.close();
    }
    await expect(createViewStore('redis://127.0.0.1:6379/0')).rejects.toThrow(UnsupportedReadStoreError);
    await expect(createViewStore('redis://127.0.0.1:6379/0')).rejects.toThrow(/"redis:"/);
    await expect(createViewStore('127.0.0.1:5432')).rejects.toThrow(UnsupportedReadStoreError);
  });

  it('migrates once per store: a later init (every projection start) never queues on the migration lock', async () => {
    // A peer paused mid-migration holds the cluster-wide lock (on the postgres database) indefinitely.
    const peer = new Client({ connectionString: PG_BASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await peer.connect();
    try {
      const name = new URL(db.url).pathname.slice(1);
      await peer.query(`SELECT pg_advisory_lock(hashtext('converge migrations: ' || $1))`, [name]);
      const outcome = await Promise.race([store.init().then(() => 'done'), new Promise((resolve) => setTimeout(resolve, 3_000, 'waited'))]);
      expect(outcome).toBe('done');
    } finally {
      await peer.end();
    }
  });

  it('lets another process query views it did not declare, including fields declared later', async () => {
    await store.ensureCollection({ collection: 'shared', fields: { n: 'number' } });
    const changes = [1, 2, 3].map((n) => ({ collection: 'shared', id: `s${n}`, doc: { n, label: n === 2 ? 'x' : 'y' }, applied: orderKey(1, n) }));
    await store.commit({ projection: 'shared', changes, checkpoint: { orderKey: orderKey(1, 3), position: 3, eventRecordedAt: null, pending: 0 } });
    const other = new PostgresViewStore(db.url);
    try {
      const found = await other.find('shared', { filter: [{ field: 'n', op: 'gt', value: 1 }], sort: { field: 'n', direction: 'desc' }, limit: 10 });
      expect(found.map((d) => d.id)).toEqual(['s3', 's2']);
      await expect(other.count('shared', [{ field: 'label', op: 'eq', value: 'x' }])).rejects.toThrow(/not declared/);
      await store.ensureCollection({ collection: 'shared', fields: { label: 'string' } });
      expect(await other.count('shared', [{ field: 'label', op: 'eq', value: 'x' }, { field: 'n', op: 'eq', value: 2 }])).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('commits a batch of 500 changes in one statement', async () => {
    await store.ensureCollection({ collection: 'bulk_a', fields: { n: 'number' } });
    await store.ensureCollection({ collection: 'bulk_b', fields: {} });
    const changes = Array.from({ length: 500 }, (_, i) => ({
      collection: i % 2 ? 'bulk_a' : 'bulk_b', id: `d${i}`, doc: { n: i }, applied: orderKey(1, i + 1),
    }));
    const query = jest.spyOn(Client.prototype, 'query');
    try {
      await store.commit({ projection: 'bulk', changes, checkpoint: { orderKey: orderKey(1, 500), position: 500, eventRecordedAt: null, pending: 0 } });
      // One round trip: an upsert per collection and the checkpoint as CTEs of one statement.
      const texts = query.mock.calls.map(([sql]) => (typeof sql === 'string' ? sql : (sql as { text: string }).text));
      expect(texts.map((text) => text.trim().split(/\s+/)[0])).toEqual(['WITH']);
    } finally {
      query.mockRestore();
    }
    expect(await store.count('bulk_a')).toBe(250);
    expect(await store.count('bulk_b')).toBe(250);
  });

  it('prepares a batch load and commit once per connection, and they keep working across a rebuild swap', async () => {
    // One connection, so each statement runs again on the session that prepared it.
    const single = new PostgresViewStore(db.url, { maxConnections: 1 });
    const checkpoint = (n: number) => ({ orderKey: orderKey(1, n), position: n, eventRecordedAt: null, pending: 0 });
    const change = (collection: string, id: string, v: string, n: number) => ({ collection, id, doc: { v }, applied: orderKey(1, n) });
    try {
      await single.ensureCollection({ collection: 'swapped', fields: {} });
      const query = jest.spyOn(Client.prototype, 'query');
      try {
        for (const n of [1, 2]) {
          await single.getMany('swapped', ['a']);
          await single.commit({ projection: 'swapped', changes: [change('swapped', `d${n}`, 'old', n)], checkpoint: checkpoint(n) });
        }
        const names = query.mock.calls.map(([config]) => (typeof config === 'string' ? undefined : (config as { name?: string }).name));
        // load, commit, load, commit: the same two names, so the session parsed and planned each once.
        expect(names).toEqual([names[0], names[1], names[0], names[1]]);
        expect(names[0]).not.toEqual(names[1]);
        expect(names[0]).toEqual(expect.any(String));
        expect(names[1]).toEqual(expect.any(String));
      } finally {
        query.mockRestore();
      }
      // A rebuild fills a shadow and renames it over the live table, which the prepared statements name.
      await single.ensureCollection({ collection: 'swapped_shadow', fields: {} });
      await single.commit({ projection: 'shadow', changes: [change('swapped_shadow', 'd1', 'new', 3)], checkpoint: checkpoint(3) });
      await single.renameCollection('swapped_shadow', 'swapped');
      expect([...(await single.getMany('swapped', ['d1', 'd2'])).values()].map((d) => [d.id, d.doc])).toEqual([['d1', { v: 'new' }]]);
      await single.commit({ projection: 'swapped', changes: [change('swapped', 'd3', 'after', 4)], checkpoint: checkpoint(4) });
      expect([...(await single.getMany('swapped', ['d1', 'd2', 'd3'])).keys()].sort()).toEqual(['d1', 'd3']);
    } finally {
      await single.close();
    }
  });

  it('names at most a bounded number of statement shapes (rebuild shadows have unique names)', () => {
    const statements = new PreparedStatements(2);
    const [a, b, c] = ['SELECT 1', 'SELECT 2', 'SELECT 3'].map((text) => statements.prepared(text));
    expect(a.name).toEqual(expect.any(String));
    expect(b.name).toEqual(expect.any(String));
    expect(a.name).not.toEqual(b.name);
    expect(statements.prepared('SELECT 1')).toEqual(a);
    expect(c).toEqual({ text: 'SELECT 3' });
  });

  it('commits atomically: a failing batch leaves neither view changes nor the checkpoint', async () => {
    await store.ensureCollection({ collection: 'atomic', fields: {} });
    const changes = [
      { collection: 'atomic', id: 'a', doc: { n: 1 }, applied: orderKey(1, 1) },
      { collection: 'never_created', id: 'b', doc: { n: 1 }, applied: orderKey(1, 2) },
    ];
    const checkpoint = { orderKey: orderKey(1, 2), position: 2, eventRecordedAt: null, pending: 0 };
    await expect(store.commit({ projection: 'atomic', changes, checkpoint })).rejects.toThrow(/never_created/);
    expect(await store.get('atomic', 'a')).toBeUndefined();
    expect(await store.checkpoint('atomic')).toBeUndefined();
  });

  it('indexes every declared field and renames the indexes with the table', async () => {
    const indexes = async (table: string) =>
      (await db.pool.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [table])).rows.map((r) => r.indexname as string);
    await store.ensureCollection({ collection: 'orders_next', fields: { status: 'string', 'total.amount': 'number' } });
    expect(await indexes('view_orders_next')).toHaveLength(3);
    await store.renameCollection('orders_next', 'orders');
    const renamed = await indexes('view_orders');
    expect(renamed).toHaveLength(3);
    await store.ensureCollection({ collection: 'orders_next', fields: { status: 'string', 'total.amount': 'number' } });
    const shadow = await indexes('view_orders_next');
    expect(shadow).toHaveLength(3);
    expect(shadow.filter((name) => renamed.includes(name))).toEqual([]);
  });

  it('serves a sorted page from the field index', async () => {
    await store.ensureCollection({ collection: 'indexed', fields: { price: 'number' } });
    const changes = Array.from({ length: 2000 }, (_, i) => ({ collection: 'indexed', id: `d${i}`, doc: { price: i % 97 }, applied: orderKey(1, i + 1) }));
    await store.commit({ projection: 'indexed', changes, checkpoint: { orderKey: orderKey(1, 2000), position: 2000, eventRecordedAt: null, pending: 0 } });
    await db.pool.query('ANALYZE view_indexed');
    const query = jest.spyOn(Client.prototype, 'query');
    try {
      await store.find('indexed', { sort: { field: 'price', direction: 'desc' }, after: { value: 50, id: 'd1' }, limit: 5 });
      const [sql, params] = query.mock.calls[0] as unknown as [string, unknown[]];
      const plan = (await db.pool.query(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan Backward/);
    } finally {
      query.mockRestore();
    }
  });

  it('orders and compares strings byte-wise even in a database with a linguistic collation', async () => {
    const admin = new Client({ connectionString: PG_BASE_URL });
    await admin.connect();
    const url = databaseUrl(uniqueName('cvvs'));
    try {
      const { rowCount } = await admin.query(`SELECT 1 FROM pg_collation WHERE collprovider = 'i'`);
      if (!rowCount) return console.warn('PostgreSQL without ICU: the linguistic-collation check is skipped');
      const name = new URL(url).pathname.slice(1);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`);
      const linguistic = await createViewStore(url);
      try {
        await linguistic.ensureCollection({ collection: 'names', fields: { name: 'string' } });
        const changes = ['apple', 'Banana', 'b', 'Zoo'].map((name, i) => ({ collection: 'names', id: `n${i}`, doc: { name }, applied: orderKey(1, i + 1) }));
        await linguistic.commit({ projection: 'names', changes, checkpoint: { orderKey: orderKey(1, 4), position: 4, eventRecordedAt: null, pending: 0 } });
        const sorted = await linguistic.find('names', { sort: { field: 'name', direction: 'asc' }, limit: 10 });
        expect(sorted.map((d) => d.doc.name)).toEqual(['Banana', 'Zoo', 'apple', 'b']);
        const below = await linguistic.find('names', { filter: [{ field: 'name', op: 'lt', value: 'a' }], limit: 10 });
        expect(below.map((d) => d.doc.name)).toEqual(['Banana', 'Zoo']);
      } finally {
        await linguistic.close();
      }
    } finally {
      await admin.end();
      await dropDatabase(url);
    }
  });
});
