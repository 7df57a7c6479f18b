/** The double against the official driver: CRUD, cursors, updates, upserts, bulk writes, unique indexes. */
import { MongoBulkWriteError, MongoClient, MongoServerError, type CommandStartedEvent, type Db } from 'mongodb';
import { startMongoDouble, type MongoDouble } from '.';

describe('mongo double: data commands', () => {
  let double: MongoDouble;
  let client: MongoClient;
  let db: Db;
  const started: CommandStartedEvent[] = [];

  beforeAll(async () => {
    double = await startMongoDouble();
    client = new MongoClient(double.url, { monitorCommands: true, serverSelectionTimeoutMS: 2000 });
    client.on('commandStarted', (event) => started.push(event));
    await client.connect();
  });

  afterAll(async () => {
    await client.close();
    await double.stop();
  });

  beforeEach(() => {
    db = client.db(`test_${Math.random().toString(36).slice(2)}`);
    started.length = 0;
  });

  it('round-trips documents with their BSON types, _id first', async () => {
    const orders = db.collection<{ _id?: unknown; sku: string; lines: number[]; at?: Date }>('orders');
    const { insertedId } = await orders.insertOne({ sku: 'A-1', lines: [1, 2], at: new Date('2024-01-02T03:04:05Z') });

    const found = await orders.findOne({ _id: insertedId });
    expect(found).toEqual({ _id: insertedId, sku: 'A-1', lines: [1, 2], at: new Date('2024-01-02T03:04:05Z') });
    expect(Object.keys(found ?? {})[0]).toBe('_id');

    expect((await orders.deleteOne({ sku: 'A-1' })).deletedCount).toBe(1);
    expect(await orders.countDocuments()).toBe(0);
  });

  it('serves a result set across getMore batches and kills cursors', async () => {
    const items = db.collection<{ n: number }>('items');
    await items.insertMany(Array.from({ length: 25 }, (_, n) => ({ n })));

    const all = await items.find({}, { batchSize: 10 }).sort({ n: 1 }).toArray();
    expect(all.map((d) => d.n)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(started.filter((e) => e.commandName === 'getMore')).toHaveLength(2);

    const cursor = items.find({}, { batchSize: 5 });
    await cursor.next();
    const id = cursor.id;
    await cursor.close();
    expect(started.some((e) => e.commandName === 'killCursors')).toBe(true);
    await expect(db.command({ getMore: id, collection: 'items' })).rejects.toMatchObject({ code: 43 });
  });

  it('sorts by BSON type order and compares strings bytewise, then skips and limits', async () => {
    const values = db.collection<{ _id: number; v: unknown }>('values');
    const raw = ['b', 'a', 'B', '\u00e9', '\ufb00', '\u{1F600}', 3, null, true, { x: 1 }, new Date(0), 1.5];
    await values.insertMany(raw.map((v, _id) => ({ _id, v })));

    const sorted = await values.find({}).sort({ v: 1 }).toArray();
    expect(sorted.map((d) => d.v)).toEqual([null, 1.5, 3, 'B', 'a', 'b', '\u00e9', '\ufb00', '\u{1F600}', { x: 1 }, true, new Date(0)]);

    const page = await values.find({ v: { $type: 'string' } }).sort({ v: -1 }).skip(1).limit(2).toArray();
    expect(page.map((d) => d.v)).toEqual(['\ufb00', '\u00e9']);
  });

  it('applies update operators', async () => {
    const stock = db.collection<{ _id: string; qty?: number; peak?: number; note?: string; created?: string; seenAt?: Date }>('stock');
    await stock.insertOne({ _id: 's1', qty: 5, peak: 5, note: 'old' });

    const result = await stock.updateOne(
      { _id: 's1' },
      { $inc: { qty: 3 }, $max: { peak: 8 }, $unset: { note: '' }, $setOnInsert: { created: 'never' }, $currentDate: { seenAt: true } },
    );
    expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const after = await stock.findOne({ _id: 's1' });
    expect(after).toMatchObject({ _id: 's1', qty: 8, peak: 8 });
    expect(after).not.toHaveProperty('note');
    expect(after).not.toHaveProperty('created');
    expect(after?.seenAt).toBeInstanceOf(Date);

    const unchanged = await stock.updateOne({ _id: 's1' }, { $max: { peak: 1 }, $set: { qty: 8 } });
    expect(unchanged).toMatchObject({ matchedCount: 1, modifiedCount: 0 });

    await expect(stock.updateOne({ _id: 's1' }, { $bogus: { qty: 1 } })).rejects.toMatchObject({ code: 9 });
    await expect(stock.updateOne({ _id: 's1' }, { $set: { _id: 'other' } })).rejects.toMatchObject({ code: 66 });
  });

  it('upserts from the filter equalities plus the operators', async () => {
    const views = db.collection<{ _id: string; tenant?: string; v?: number; created?: boolean; total?: number }>('views');
    const result = await views.updateOne(
      { _id: 'o1', tenant: 't1', v: { $lt: 3 } },
      { $set: { v: 3 }, $setOnInsert: { created: true }, $inc: { total: 10 } },
      { upsert: true },
    );
    expect(result).toMatchObject({ upsertedCount: 1, upsertedId: 'o1', matchedCount: 0 });
    expect(await views.findOne({ _id: 'o1' })).toEqual({ _id: 'o1', tenant: 't1', v: 3, created: true, total: 10 });

    const replaced = await views.replaceOne({ tenant: 't2' }, { tenant: 't2', v: 1 }, { upsert: true });
    expect(replaced.upsertedId).toBeDefined();
    expect(await views.countDocuments({ tenant: 't2', v: 1 })).toBe(1);
  });

  it('fails a version-guarded upsert that loses the race with E11000 on _id, like MongoDB', async () => {
    const views = db.collection<{ _id: string; v: number }>('race');
    await views.insertOne({ _id: 'a', v: 7 });

    const attempt = views.updateOne({ _id: 'a', v: { $lt: 5 } }, { $set: { v: 5 } }, { upsert: true });
    await expect(attempt).rejects.toBeInstanceOf(MongoServerError);
    await expect(attempt).rejects.toMatchObject({
      code: 11000,
      errmsg: `E11000 duplicate key error collection: ${db.databaseName}.race index: _id_ dup key: { _id: "a" }`,
    });
    expect(await views.findOne({ _id: 'a' })).toEqual({ _id: 'a', v: 7 });
  });

  it('stops ordered bulk writes at the first duplicate and continues unordered ones', async () => {
    const lines = db.collection<{ _id: number; x?: number }>('lines');
    const ops = [
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 1 } } },
      { insertOne: { document: { _id: 2 } } },
      { updateOne: { filter: { _id: 3 }, update: { $set: { x: 1 } }, upsert: true } },
    ];

    const ordered = await lines.bulkWrite(ops).catch((error: unknown) => error);
    expect(ordered).toBeInstanceOf(MongoBulkWriteError);
    expect((ordered as MongoBulkWriteError).code).toBe(11000);
    expect((ordered as MongoBulkWriteError).writeErrors).toMatchObject([{ index: 1, code: 11000 }]);
    expect(await lines.countDocuments()).toBe(1);

    await lines.deleteMany({});
    const unordered = (await lines.bulkWrite(ops, { ordered: false }).catch((error: unknown) => error)) as MongoBulkWriteError;
    expect(unordered.result).toMatchObject({ insertedCount: 2, upsertedCount: 1 });
    expect(unordered.result.upsertedIds).toEqual({ 3: 3 });
    expect(await lines.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2 }, { _id: 3, x: 1 }]);
  });

  it('enforces unique indexes, including compound ones, on insert, update and upsert', async () => {
    const users = db.collection<{ email?: string; tenant?: string; code?: number }>('users');
    expect(await users.createIndex({ email: 1 }, { unique: true })).toBe('email_1');
    await users.createIndex({ tenant: 1, code: 1 }, { unique: true, name: 'tenant_code' });
    await users.insertOne({ email: 'a@x', tenant: 't', code: 1 });
    await users.insertOne({ email: 'b@x', tenant: 't', code: 2 });

    const duplicate = await users.insertOne({ email: 'a@x' }).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(MongoServerError);
    expect(duplicate).toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'a@x' },
      errmsg: `E11000 duplicate key error collection: ${db.databaseName}.users index: email_1 dup key: { email: "a@x" }`,
    });
    await expect(users.updateOne({ email: 'b@x' }, { $set: { code: 1 } })).rejects.toMatchObject({ code: 11000 });
    await expect(users.updateOne({ email: 'c@x' }, { $set: { tenant: 't', code: 2 } }, { upsert: true })).rejects.toMatchObject({
      code: 11000,
      errmsg: expect.stringContaining('index: tenant_code dup key: { tenant: "t", code: 2 }'),
    });
    await expect(users.findOneAndUpdate({ email: 'b@x' }, { $set: { email: 'a@x' } })).rejects.toMatchObject({ code: 11000 });
    expect(await users.countDocuments()).toBe(2);

    await users.insertOne({ email: 'c@x', tenant: 't', code: 3 });
    await expect(users.createIndex({ code: 1 }, { unique: true })).resolves.toBe('code_1');
    await expect(users.createIndex({ tenant: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
  });

  it('finds and modifies one document, with upsert and returnDocument after', async () => {
    const counters = db.collection<{ _id: string; seq: number }>('counters');
    const first = await counters.findOneAndUpdate({ _id: 'orders' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(first).toEqual({ _id: 'orders', seq: 1 });
    const before = await counters.findOneAndUpdate({ _id: 'orders' }, { $inc: { seq: 1 } }, { returnDocument: 'before' });
    expect(before).toEqual({ _id: 'orders', seq: 1 });
    const removed = await counters.findOneAndDelete({ _id: 'orders' }, { projection: { _id: 0 } });
    expect(removed).toEqual({ seq: 2 });
    expect(await counters.findOneAndUpdate({ _id: 'none' }, { $inc: { seq: 1 } })).toBeNull();
  });
});
