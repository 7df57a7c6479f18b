/**
 * The behaviour every ViewStore adapter must show, run by each adapter's *.int.spec.ts
 * against its real (or wire-compatible) store.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { orderKey } from '../../src/contracts/envelope';
import { InvalidViewQueryError } from '../../read-model/view-store/view-query';
import { LeaseLostError } from '../../read-model/view-store/view-store';
import type { CommitBatch, DeadLetter, StoredDocument, ViewChange, ViewQuery, ViewSchema, ViewStore } from '../../read-model/view-store/view-store';

type Setup = () => Promise<{ store: ViewStore; teardown: () => Promise<void> }>;
type Doc = Record<string, unknown>;

const PRODUCT_FIELDS: ViewSchema['fields'] = {
  name: 'string', category: 'string', 'price.amount': 'number', stock: 'number', active: 'boolean',
};

/** Chosen to expose collation, numeric-vs-text order, ties, a missing field and wildcard characters. */
const PRODUCTS: Record<string, Doc> = {
  p01: { name: 'apple', category: 'fruit', price: { amount: 3, currency: 'EUR' }, stock: 10, active: true },
  p02: { name: 'Banana', category: 'fruit', price: { amount: 10 }, stock: 0, active: false },
  p03: { name: 'cherry', category: 'fruit', price: { amount: 9.5 }, stock: 25, active: true },
  p04: { name: '100% juice', category: 'drink', price: { amount: 3 }, stock: 5, active: true },
  p05: { name: 'a_b tool', category: 'tools', price: { amount: -1.25 }, stock: 7, active: false },
  p06: { name: 'regex .* (group)', category: 'tools', price: { amount: 100 }, stock: 1, active: true },
  p07: { name: 'Apple Pie', category: 'bakery', price: { amount: 3 }, stock: 3, active: true },
  p08: { name: 'zucchini', category: 'vegetable', price: { amount: 2 }, stock: 12, active: false },
  p09: { name: 'gift card', category: 'voucher', stock: 100, active: true },
  p10: { name: 'éclair', category: 'bakery', price: { amount: 10 }, stock: 4, active: true },
  p11: { name: 'axb tool', category: 'tools', price: { amount: 20 }, stock: 9, active: false },
  p12: { name: '100 percent', category: 'drink', price: { amount: 1 }, stock: 2, active: true },
};
const ALL_IDS = Object.keys(PRODUCTS);

const key = (n: number) => orderKey(1, n);
const ids = (docs: StoredDocument[]) => docs.map((d) => d.id);
let sequence = 0;
/** A name no other test of this run uses, so tests do not depend on each other's data. */
const fresh = (prefix: string) => `${prefix}_${(sequence += 1)}`;

function valueAt(doc: Doc, path: string): unknown {
  return path.split('.').reduce<unknown>((value, part) => (value as Doc | undefined)?.[part], doc);
}

function batch(projection: string, changes: ViewChange[], at: number, extra: Partial<CommitBatch> = {}): CommitBatch {
  return {
    projection, changes, checkpoint: { orderKey: key(at), position: at, eventRecordedAt: null, pending: 0 }, ...extra,
  };
}

export function viewStoreConformance(name: string, setup: Setup): void {
  describe(`ViewStore conformance: ${name}`, () => {
    let store: ViewStore;
    let teardown: () => Promise<void> = async () => undefined;
    let products: string;

    beforeAll(async () => {
      ({ store, teardown } = await setup());
      await store.init(); // a second init must be harmless
      products = fresh('products');
      await store.ensureCollection({ collection: products, fields: PRODUCT_FIELDS });
      const changes = Object.entries(PRODUCTS).map(([id, doc], i) => ({ collection: products, id, doc, applied: key(i + 1) }));
      await store.commit(batch(fresh('catalog'), changes, 100));
    });
    afterAll(() => teardown());

    const find = (query: Omit<ViewQuery, 'limit'> & { limit?: number }) => store.find(products, { limit: 100, ...query });
    const where = async (...filter: NonNullable<ViewQuery['filter']>) => ids(await find({ filter }));

    describe('documents', () => {
      it('round-trips documents through get and getMany, nested fields included', async () => {
        expect(await store.get(products, 'p01')).toEqual({ id: 'p01', doc: PRODUCTS.p01, applied: key(1) });
        expect(await store.get(products, 'nope')).toBeUndefined();
        const many = await store.getMany(products, ['p03', 'p09', 'nope']);
        expect([...many.keys()].sort()).toEqual(['p03', 'p09']);
        expect(many.get('p09')?.doc).toEqual(PRODUCTS.p09);
        expect(await store.count(products)).toBe(ALL_IDS.length);
      });

      it('ensureCollection is idempotent and keeps the data', async () => {
        await store.ensureCollection({ collection: products, fields: PRODUCT_FIELDS });
        expect(await store.count(products)).toBe(ALL_IDS.length);
      });

      it('refuses invalid collection and field names', async () => {
        await expect(store.ensureCollection({ collection: 'Bad-Name', fields: {} })).rejects.toThrow(InvalidViewQueryError);
        await expect(store.ensureCollection({ collection: 'x"; drop', fields: {} })).rejects.toThrow(InvalidViewQueryError);
        await expect(store.ensureCollection({ collection: fresh('ok'), fields: { 'a.$where': 'string' } })).rejects.toThrow(InvalidViewQueryError);
      });
    });

    describe('version guard', () => {
      let views: string;
      const put = (id: string, doc: Doc | null, applied: string) =>
        store.commit(batch(fresh('guard'), [{ collection: views, id, doc, applied }], 1));
      beforeAll(async () => {
        views = fresh('guarded');
        await store.ensureCollection({ collection: views, fields: { n: 'number' } });
      });

      it('applies a newer write, ignores a stale or equal one, and replaces the whole document', async () => {
        await put('d', { n: 1, extra: 'x' }, orderKey(1, 10));
        await put('d', { n: 0 }, orderKey(1, 9));
        await put('d', { n: 2 }, orderKey(1, 10));
        expect(await store.get(views, 'd')).toEqual({ id: 'd', doc: { n: 1, extra: 'x' }, applied: orderKey(1, 10) });
        await put('d', { n: 3 }, orderKey(2, 1)); // a later transaction wins whatever its position
        expect(await store.get(views, 'd')).toEqual({ id: 'd', doc: { n: 3 }, applied: orderKey(2, 1) });
      });

      it('guards deletes, and a stale write does not bring a deleted document back', async () => {
        await put('e', { n: 1 }, key(5));
        await put('e', null, key(4));
        expect((await store.get(views, 'e'))?.doc).toEqual({ n: 1 });
        await put('e', null, key(6));
        expect(await store.get(views, 'e')).toBeUndefined();
        await put('e', { n: 99 }, key(5)); // redelivered older event
        expect(await store.get(views, 'e')).toBeUndefined();
        expect(await store.find(views, { limit: 10, filter: [{ field: 'n', op: 'ne', value: 1 }] })).not.toContainEqual(expect.objectContaining({ id: 'e' }));
        await put('e', { n: 7 }, key(7));
        expect((await store.get(views, 'e'))?.doc).toEqual({ n: 7 });
      });

      it('applies a repair (replaces) only over the very version it names, even to an older or equal key', async () => {
        const repair = (id: string, doc: Doc | null, applied: string, replaces: string) =>
          store.commit(batch(fresh('guard'), [{ collection: views, id, doc, applied, replaces }], 1));
        await put('r', { n: 1, tampered: true }, key(5));
        await repair('r', { n: 1 }, key(5), key(5));
        expect(await store.get(views, 'r')).toEqual({ id: 'r', doc: { n: 1 }, applied: key(5) });
        await repair('r', { n: 0 }, key(3), key(5)); // the log's own key may be lower than the one the document claims
        expect(await store.get(views, 'r')).toEqual({ id: 'r', doc: { n: 0 }, applied: key(3) });
        await put('r', { n: 4 }, key(4)); // the projector moved the document on...
        await repair('r', { n: 0 }, key(3), key(3)); // ...so a repair of the version it replaced writes nothing
        expect(await store.get(views, 'r')).toEqual({ id: 'r', doc: { n: 4 }, applied: key(4) });
        await repair('r', null, key(4), key(4)); // an extra document is deleted
        expect(await store.get(views, 'r')).toBeUndefined();
        await repair('absent', { n: 1 }, key(1), key(1)); // never inserts
        expect(await store.get(views, 'absent')).toBeUndefined();
      });

      it('within one batch, the change with the greatest order key wins', async () => {
        const changes = [3, 8, 5].map((n) => ({ collection: views, id: 'f', doc: { n }, applied: key(n) }));
        await store.commit(batch(fresh('guard'), changes, 8));
        expect(await store.get(views, 'f')).toEqual({ id: 'f', doc: { n: 8 }, applied: key(8) });
      });

      it('keeps a counter exact when a batch is delivered twice', async () => {
        const totals = fresh('daily_totals');
        await store.ensureCollection({ collection: totals, fields: { day: 'string' } });
        const events = [
          { day: '2025-11-20', amount: 5, at: key(11) }, { day: '2025-11-21', amount: 7, at: key(12) },
          { day: '2025-11-20', amount: 2, at: key(13) }, { day: '2025-11-21', amount: 1, at: key(14) },
        ];
        // A naive projection: adds every event to what it read, trusting the store's guard.
        const apply = async () => {
          const current = await store.getMany(totals, events.map((e) => e.day));
          const next = new Map<string, ViewChange>();
          for (const e of events) {
            const base = (next.get(e.day)?.doc ?? current.get(e.day)?.doc ?? { day: e.day, total: 0, count: 0 }) as Doc;
            const doc = { day: e.day, total: (base.total as number) + e.amount, count: (base.count as number) + 1 };
            next.set(e.day, { collection: totals, id: e.day, doc, applied: e.at });
          }
          await store.commit(batch(fresh('totals'), [...next.values()], 14));
        };
        await apply();
        await apply();
        expect((await store.get(totals, '2025-11-20'))?.doc).toEqual({ day: '2025-11-20', total: 7, count: 2 });
        expect((await store.get(totals, '2025-11-21'))?.doc).toEqual({ day: '2025-11-21', total: 8, count: 2 });
      });
    });

    describe('filters', () => {
      it('compares strings byte-wise and case-sensitively', async () => {
        expect(await where({ field: 'name', op: 'eq', value: 'apple' })).toEqual(['p01']);
        expect(await where({ field: 'name', op: 'gt', value: 'b' })).toEqual(['p03', 'p06', 'p08', 'p09', 'p10']);
        expect(await where({ field: 'name', op: 'lt', value: 'B' })).toEqual(['p04', 'p07', 'p12']);
        expect(await where({ field: 'name', op: 'gte', value: 'zucchini' })).toEqual(['p08', 'p10']);
        expect(await where({ field: 'name', op: 'lte', value: '100% juice' })).toEqual(['p04', 'p12']);
        expect(await where({ field: 'category', op: 'ne', value: 'fruit' })).toEqual(ALL_IDS.filter((id) => !['p01', 'p02', 'p03'].includes(id)));
        expect(await where({ field: 'category', op: 'in', value: ['drink', 'voucher'] })).toEqual(['p04', 'p09', 'p12']);
      });

      it('compares numbers numerically, on nested fields, and leaves out documents without the field', async () => {
        expect(await where({ field: 'price.amount', op: 'eq', value: 9.5 })).toEqual(['p03']);
        expect(await where({ field: 'price.amount', op: 'gt', value: 3 })).toEqual(['p02', 'p03', 'p06', 'p10', 'p11']);
        expect(await where({ field: 'price.amount', op: 'gte', value: 10 })).toEqual(['p02', 'p06', 'p10', 'p11']);
        expect(await where({ field: 'price.amount', op: 'lt', value: 2 })).toEqual(['p05', 'p12']);
        expect(await where({ field: 'price.amount', op: 'lte', value: 2 })).toEqual(['p05', 'p08', 'p12']);
        expect(await where({ field: 'price.amount', op: 'in', value: [3, 100] })).toEqual(['p01', 'p04', 'p06', 'p07']);
        expect(await where({ field: 'price.amount', op: 'ne', value: 3 })).toEqual(['p02', 'p03', 'p05', 'p06', 'p08', 'p09', 'p10', 'p11', 'p12']);
        expect(await where({ field: 'stock', op: 'eq', value: 0 })).toEqual(['p02']);
      });

      it('filters booleans and the id, and combines conditions with AND', async () => {
        const inactive = ['p02', 'p05', 'p08', 'p11'];
        expect(await where({ field: 'active', op: 'eq', value: false })).toEqual(inactive);
        expect(await where({ field: 'active', op: 'ne', value: false })).toEqual(ALL_IDS.filter((id) => !inactive.includes(id)));
        expect(await where({ field: 'active', op: 'in', value: [false] })).toEqual(inactive);
        expect(await where({ field: 'id', op: 'in', value: ['p03', 'p01', 'zz'] })).toEqual(['p01', 'p03']);
        expect(await where({ field: 'category', op: 'eq', value: 'fruit' }, { field: 'active', op: 'eq', value: true })).toEqual(['p01', 'p03']);
        expect(await store.count(products, [{ field: 'active', op: 'eq', value: false }])).toBe(inactive.length);
        expect(await where({ field: 'category', op: 'in', value: [] })).toEqual([]);
      });

      it('matches contains case-insensitively and takes wildcard characters literally', async () => {
        expect(await where({ field: 'name', op: 'contains', value: 'APPLE' })).toEqual(['p01', 'p07']);
        expect(await where({ field: 'name', op: 'contains', value: 'ÉCL' })).toEqual(['p10']);
        expect(await where({ field: 'name', op: 'contains', value: '0%' })).toEqual(['p04']);
        expect(await where({ field: 'name', op: 'contains', value: 'a_b' })).toEqual(['p05']);
        expect(await where({ field: 'name', op: 'contains', value: '.*' })).toEqual(['p06']);
        expect(await where({ field: 'name', op: 'contains', value: '(' })).toEqual(['p06']);
        expect(await where({ field: 'name', op: 'contains', value: '\\' })).toEqual([]);
      });

      it('refuses undeclared fields, wrongly typed values and operator objects', async () => {
        const bad: unknown[] = [
          { filter: [{ field: 'secret', op: 'eq', value: 1 }] },
          { filter: [{ field: '$where', op: 'eq', value: 'true' }] },
          { filter: [{ field: 'price.amount', op: 'gt', value: '3' }] },
          { filter: [{ field: 'name', op: 'eq', value: { $gt: '' } }] },
          { filter: [{ field: 'name', op: 'regex', value: '.*' }] },
          { filter: [{ field: 'stock', op: 'contains', value: '1' }] },
          { sort: { field: 'secret', direction: 'asc' } },
          { sort: { field: 'price.amount', direction: 'asc' }, after: { value: 'x', id: 'p01' } },
          { limit: 0 },
        ];
        for (const query of bad) {
          await expect(store.find(products, { limit: 10, ...(query as object) })).rejects.toThrow(InvalidViewQueryError);
        }
      });
    });

    describe('sorting and pagination', () => {
      const byPriceAsc = ['p09', 'p05', 'p12', 'p08', 'p01', 'p04', 'p07', 'p03', 'p02', 'p10', 'p11', 'p06'];

      it('sorts numbers numerically with missing values first and the id breaking ties', async () => {
        expect(ids(await find({ sort: { field: 'price.amount', direction: 'asc' } }))).toEqual(byPriceAsc);
        expect(ids(await find({ sort: { field: 'price.amount', direction: 'desc' } }))).toEqual([...byPriceAsc].reverse());
      });

      it('sorts strings byte-wise with the id breaking ties in the same direction', async () => {
        const byName = ['p12', 'p04', 'p07', 'p02', 'p05', 'p01', 'p11', 'p03', 'p09', 'p06', 'p08', 'p10'];
        expect(ids(await find({ sort: { field: 'name', direction: 'asc' } }))).toEqual(byName);
        expect(ids(await find({ sort: { field: 'name', direction: 'desc' } }))).toEqual([...byName].reverse());
        const byCategory = ['p07', 'p10', 'p04', 'p12', 'p01', 'p02', 'p03', 'p05', 'p06', 'p11', 'p08', 'p09'];
        expect(ids(await find({ sort: { field: 'category', direction: 'asc' } }))).toEqual(byCategory);
        expect(ids(await find({ sort: { field: 'category', direction: 'desc' } }))).toEqual([...byCategory].reverse());
        expect(ids(await find({}))).toEqual(ALL_IDS);
        expect(ids(await find({ limit: 3 }))).toEqual(['p01', 'p02', 'p03']);
      });

      const sorts: { field: string; direction: 'asc' | 'desc' }[] = [];
      for (const field of ['id', 'price.amount', 'name', 'category', 'active', 'stock']) {
        for (const direction of ['asc', 'desc'] as const) sorts.push({ field, direction });
      }
      for (const sort of sorts) {
        it(`walks every document once with cursors, sorted by ${sort.field} ${sort.direction}`, async () => {
          const all = ids(await find({ sort }));
          expect([...all].sort()).toEqual(ALL_IDS);
          for (const limit of [1, 2, 7]) {
            const walked: string[] = [];
            let after: ViewQuery['after'];
            for (let pages = 0; pages <= ALL_IDS.length; pages += 1) {
              const page = await store.find(products, { sort, after, limit });
              walked.push(...ids(page));
              if (page.length < limit) break;
              const last = page[page.length - 1];
              const value = sort.field === 'id' ? last.id : valueAt(last.doc, sort.field);
              after = { value: (value ?? null) as string | number | boolean | null, id: last.id };
            }
            expect(walked).toEqual(all);
          }
        });
      }

      it('pages through a filtered result', async () => {
        const sort = { field: 'price.amount', direction: 'desc' } as const;
        const filter = [{ field: 'category', op: 'in' as const, value: ['fruit', 'bakery', 'voucher'] }];
        const first = await store.find(products, { filter, sort, limit: 4 });
        expect(ids(first)).toEqual(['p10', 'p02', 'p03', 'p07']);
        const last = first[3];
        const rest = await store.find(products, { filter, sort, limit: 4, after: { value: valueAt(last.doc, 'price.amount') as number, id: last.id } });
        expect(ids(rest)).toEqual(['p01', 'p09']);
      });

      it('returns results larger than one server batch completely and in order', async () => {
        // MongoDB answers a find in batches of 101 and the driver fetches the rest with getMore.
        const many = fresh('many');
        await store.ensureCollection({ collection: many, fields: { n: 'number' } });
        const changes = Array.from({ length: 250 }, (_, n) => ({ collection: many, id: `m${String(n).padStart(3, '0')}`, doc: { n }, applied: key(1) }));
        await store.commit(batch(fresh('many'), changes, 1));
        const all = await store.find(many, { sort: { field: 'n', direction: 'desc' }, limit: 250 });
        expect(all.map((d) => d.doc.n)).toEqual(Array.from({ length: 250 }, (_, n) => 249 - n));
        expect(await store.count(many)).toBe(250);
        expect((await store.getMany(many, changes.map((c) => c.id))).size).toBe(250);
      });
    });

    describe('checkpoints', () => {
      it('are written with the changes and only move forward', async () => {
        const projection = fresh('projection');
        const views = fresh('checkpointed');
        await store.ensureCollection({ collection: views, fields: {} });
        const recordedAt = new Date('2025-11-21T10:00:00.123Z');
        const change = (n: number) => ({ collection: views, id: 'a', doc: { n }, applied: key(n) });
        await store.commit({ projection, changes: [change(5)], checkpoint: { orderKey: key(5), position: 5, eventRecordedAt: recordedAt, pending: 3 } });
        expect((await store.get(views, 'a'))?.doc).toEqual({ n: 5 });
        const written = await store.checkpoint(projection);
        expect(written).toEqual({ projection, orderKey: key(5), position: 5, eventRecordedAt: recordedAt, pending: 3, updatedAt: expect.any(Date) });
        await store.commit(batch(projection, [change(3)], 3));
        expect(await store.checkpoint(projection)).toEqual(written);
        expect((await store.get(views, 'a'))?.doc).toEqual({ n: 5 });
        await store.commit(batch(projection, [change(9)], 9));
        expect(await store.checkpoint(projection)).toMatchObject({ orderKey: key(9), position: 9, eventRecordedAt: null, pending: 0 });
        expect((await store.checkpoints()).map((c) => c.projection)).toContain(projection);
        await store.deleteCheckpoint(projection);
        expect(await store.checkpoint(projection)).toBeUndefined();
        expect((await store.checkpoints()).map((c) => c.projection)).not.toContain(projection);
      });
    });

    describe('leases', () => {
      it('has one owner at a time, a new token at every change of owner, and lets go on release', async () => {
        const name = fresh('lease');
        const first = await store.acquireLease(name, 'replica-a', 60_000);
        expect(first).toMatchObject({ name, owner: 'replica-a', token: 1 });
        expect(await store.acquireLease(name, 'replica-b', 60_000)).toBeUndefined();
        expect(await store.renewLease({ name, token: 1 }, 'replica-a', 60_000)).toBe(true);
        expect(await store.renewLease({ name, token: 1 }, 'replica-b', 60_000)).toBe(false);
        await store.releaseLease({ name, token: 1 }, 'replica-a');
        expect(await store.renewLease({ name, token: 1 }, 'replica-a', 60_000)).toBe(false);
        const second = await store.acquireLease(name, 'replica-b', 60_000);
        expect(second).toMatchObject({ owner: 'replica-b', token: 2 });
        const { leases, now } = await store.leases();
        const listed = leases.find((lease) => lease.name === name)!;
        expect(listed).toMatchObject({ owner: 'replica-b', token: 2 });
        expect(listed.expiresAt.getTime()).toBeGreaterThan(now.getTime());
      });

      it('passes an expired lease to the next claimant, and its old owner can neither renew nor commit', async () => {
        const name = fresh('lease');
        const views = fresh('fenced');
        await store.ensureCollection({ collection: views, fields: {} });
        const change = (n: number) => ({ collection: views, id: 'a', doc: { n }, applied: key(n) });
        const old = (await store.acquireLease(name, 'replica-a', 200))!;
        await store.commit(batch(name, [change(1)], 1, { fence: { name, token: old.token } }));
        expect((await store.get(views, 'a'))?.doc).toEqual({ n: 1 });
        await new Promise((resolve) => setTimeout(resolve, 400));
        // Expired and not yet taken: the old owner is fenced all the same.
        await expect(store.commit(batch(name, [change(2)], 2, { fence: { name, token: old.token } }))).rejects.toBeInstanceOf(LeaseLostError);
        const next = (await store.acquireLease(name, 'replica-b', 60_000))!;
        expect(next.token).toBe(old.token + 1);
        expect(await store.renewLease({ name, token: old.token }, 'replica-a', 60_000)).toBe(false);
        await expect(store.commit(batch(name, [change(3)], 3, { fence: { name, token: old.token } }))).rejects.toBeInstanceOf(LeaseLostError);
        expect((await store.get(views, 'a'))?.doc).toEqual({ n: 1 });
        expect((await store.checkpoint(name))?.position).toBe(1);
        await store.commit(batch(name, [change(4)], 4, { fence: { name, token: next.token } }));
        expect((await store.get(views, 'a'))?.doc).toEqual({ n: 4 });
        expect((await store.checkpoint(name))?.position).toBe(4);
      });

      it('heartbeats mark a member alive whoever held the name before', async () => {
        const name = fresh('member');
        await store.heartbeat(name, 'replica-a', 60_000);
        await store.heartbeat(name, 'replica-a', 60_000);
        await store.heartbeat(name, 'replica-b', 60_000);
        expect((await store.leases()).leases.find((lease) => lease.name === name)).toMatchObject({ owner: 'replica-b' });
      });
    });

    describe('dead letters', () => {
      it('are stored, listed, fetched, updated and deleted', async () => {
        const [a, b] = [fresh('projection_a'), fresh('projection_b')];
        const letter = (projection: string, eventId: string, n: number, attempts = 5): DeadLetter => ({
          projection, eventId, orderKey: key(n), event: { type: 'StockReserved', data: { sku: `s${n}`, quantity: n } },
          error: `boom ${n}`, attempts, failedAt: new Date(Date.UTC(2025, 10, 21, 12, 0, n)),
        });
        await store.commit(batch(a, [], 2, { deadLetters: [letter(a, 'e2', 2), letter(a, 'e1', 1), letter(b, 'e1', 1)] }));
        expect(await store.deadLetters(a)).toEqual([letter(a, 'e1', 1), letter(a, 'e2', 2)]);
        expect((await store.deadLetters()).filter((d) => [a, b].includes(d.projection))).toHaveLength(3);
        expect(await store.deadLetter(b, 'e1')).toEqual(letter(b, 'e1', 1));
        await store.commit(batch(a, [], 3, { deadLetters: [letter(a, 'e1', 1, 6)] }));
        expect((await store.deadLetter(a, 'e1'))?.attempts).toBe(6);
        expect(await store.deadLetters(a)).toHaveLength(2);
        expect(await store.deleteDeadLetter(a, 'e1')).toBe(true);
        expect(await store.deleteDeadLetter(a, 'e1')).toBe(false);
        expect(await store.deadLetter(a, 'e1')).toBeUndefined();
        expect(await store.deadLetter(b, 'e1')).toBeDefined();
      });
    });

    describe('collections', () => {
      it('swaps a filled shadow collection in, and can do it again', async () => {
        const live = fresh('catalog_view');
        const fields = { name: 'string', 'price.amount': 'number' } as const;
        const fill = async (collection: string, docs: Record<string, Doc>) => {
          await store.ensureCollection({ collection, fields });
          const changes = Object.entries(docs).map(([id, doc]) => ({ collection, id, doc, applied: key(1) }));
          await store.commit(batch(fresh('rebuild'), changes, 1));
        };
        await fill(live, { old: { name: 'old', price: { amount: 1 } } });
        for (const round of [1, 2]) {
          const shadow = `${live}_shadow`;
          await fill(shadow, { [`b${round}`]: { name: 'b', price: { amount: 1 } }, [`a${round}`]: { name: 'a', price: { amount: 2 } } });
          expect(await store.count(live)).toBe(round === 1 ? 1 : 2);
          await store.renameCollection(shadow, live);
          expect(await store.get(live, 'old')).toBeUndefined();
          expect(await store.get(live, `a${round}`)).toMatchObject({ doc: { name: 'a' } });
          expect(ids(await store.find(live, { limit: 10, sort: { field: 'price.amount', direction: 'desc' } }))).toEqual([`a${round}`, `b${round}`]);
          expect(ids(await store.find(live, { limit: 10, filter: [{ field: 'name', op: 'eq', value: 'b' }] }))).toEqual([`b${round}`]);
          const collections = await store.listCollections();
          expect(collections).toContain(live);
          expect(collections).not.toContain(shadow);
        }
        await expect(store.renameCollection(fresh('missing'), live)).rejects.toThrow(/does not exist/);
        expect(await store.count(live)).toBe(2);
      });

      it('lists view collections only, and drops them', async () => {
        const [one, two] = [fresh('listed'), fresh('listed')];
        await store.ensureCollection({ collection: one, fields: {} });
        await store.ensureCollection({ collection: two, fields: { x: 'number' } });
        const listed = await store.listCollections();
        expect(listed).toEqual(expect.arrayContaining([one, two, products]));
        expect(listed.every((c) => /^[a-z0-9_]+$/.test(c))).toBe(true);
        await store.dropCollection(one);
        await store.dropCollection(one);
        expect(await store.listCollections()).not.toContain(one);
      });
    });
  });
}
