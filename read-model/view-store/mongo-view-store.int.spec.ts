import { MongoClient } from 'mongodb';
import { startMongoDouble } from '../../test/support/mongo-double';
import { uniqueName } from '../../test/support/env';
import { orderKey } from '../../src/contracts/envelope';
import { createViewStore } from './create-view-store';
import { MongoViewStore } from './mongo-view-store';
import { viewStoreConformance } from '../../test/support/view-store-conformance';

/** A store on a database of its own, dropped afterwards. */
async function storeOn(url: string) {
  const database = uniqueName('cvvs');
  const store = new MongoViewStore(url, { database });
  return {
    store,
    async teardown() {
      await store.close();
      const client = await MongoClient.connect(url);
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

const realMongo = process.env.MONGO_TEST_URL;
if (realMongo) {
  viewStoreConformance('MongoDB', () => storeOn(realMongo));
} else {
  console.warn('MONGO_TEST_URL is not set: the view-store suite runs against the MongoDB double only, not a real MongoDB.');
  it.todo('ViewStore conformance against a real MongoDB: set MONGO_TEST_URL to run it');
}

describe('against the MongoDB wire-protocol double', () => {
  let double: Awaited<ReturnType<typeof startMongoDouble>>;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(() => double?.stop());

  viewStoreConformance('MongoDB double', () => storeOn(double.url));

  it('lets another process query views it did not declare, including fields declared later', async () => {
    const database = uniqueName('cvvs');
    const [store, other] = [new MongoViewStore(double.url, { database }), new MongoViewStore(double.url, { database })];
    try {
      await store.init();
      await store.ensureCollection({ collection: 'shared', fields: { n: 'number' } });
      const changes = [1, 2, 3].map((n) => ({ collection: 'shared', id: `s${n}`, doc: { n, label: n === 2 ? 'x' : 'y' }, applied: orderKey(1, n) }));
      await store.commit({ projection: 'shared', changes, checkpoint: { orderKey: orderKey(1, 3), position: 3, eventRecordedAt: null, pending: 0 } });
      const found = await other.find('shared', { filter: [{ field: 'n', op: 'gt', value: 1 }], sort: { field: 'n', direction: 'desc' }, limit: 10 });
      expect(found.map((d) => d.id)).toEqual(['s3', 's2']);
      await expect(other.count('shared', [{ field: 'label', op: 'eq', value: 'x' }])).rejects.toThrow(/not declared/);
      await store.ensureCollection({ collection: 'shared', fields: { label: 'string' } });
      expect(await other.count('shared', [{ field: 'label', op: 'eq', value: 'x' }, { field: 'n', op: 'eq', value: 2 }])).toBe(1);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  });

    it('is chosen by createViewStore for mongodb:// URLs, and names its connections (appName) as the process asks', async () => {
    const store = await createViewStore(double.url, { database: uniqueName('cvvs'), clientName: 'converge projector' });
    expect(store).toBeInstanceOf(MongoViewStore);
    expect((store as unknown as { client: MongoClient }).client.options.appName).toBe('converge projector');
    await store.close();
  });
});
