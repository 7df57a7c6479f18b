/** The double against the official driver: namespaces, indexes, aggregation, errors, disabling, framing. */
import { BSON, MongoClient, MongoServerError, type Db } from 'mongodb';
import { connect, type Socket } from 'node:net';
import { startMongoDouble, type MongoDouble } from '.';

async function withClient(double: MongoDouble, run: (client: MongoClient) => Promise<void>): Promise<void> {
  const client = new MongoClient(double.url, { serverSelectionTimeoutMS: 2000 });
  try {
    await run(client);
  } finally {
    await client.close();
  }
}

describe('mongo double: namespaces, aggregation and errors', () => {
  let double: MongoDouble;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    double = await startMongoDouble();
    client = await new MongoClient(double.url, { serverSelectionTimeoutMS: 2000 }).connect();
  });

  afterAll(async () => {
    await client.close();
    await double.stop();
  });

  beforeEach(() => {
    db = client.db(`admin_${Math.random().toString(36).slice(2)}`);
  });

  it('renames collections, refusing an existing target unless dropTarget', async () => {
    await db.collection('live').insertOne({ _id: 'old' } as never);
    await db.collection('rebuild').insertOne({ _id: 'new' } as never);
    await db.collection('rebuild').createIndex({ sku: 1 }, { unique: true });

    await expect(db.renameCollection('rebuild', 'live')).rejects.toMatchObject({ code: 48, codeName: 'NamespaceExists' });
    await expect(db.renameCollection('missing', 'other')).rejects.toMatchObject({ code: 26 });

    await db.renameCollection('rebuild', 'live', { dropTarget: true });
    expect(await db.collection('live').find().toArray()).toEqual([{ _id: 'new' }]);
    expect((await db.collection('live').indexes()).map((i) => i.name)).toEqual(['_id_', 'sku_1']);
    expect((await db.listCollections().toArray()).map((c) => c.name)).toEqual(['live']);

    await db.collection('live').rename('final');
    expect(await db.collection('final').countDocuments()).toBe(1);
  });

  it('swaps with dropTarget atomically: concurrent readers always see a collection', async () => {
    await db.collection('view').insertOne({ _id: 'v0' } as never);
    const readers: Promise<number>[] = [];
    for (let round = 1; round <= 20; round += 1) {
      await db.collection('shadow').insertOne({ _id: `v${round}` } as never);
      const swap = db.renameCollection('shadow', 'view', { dropTarget: true });
      for (let i = 0; i < 5; i += 1) readers.push(db.collection('view').countDocuments());
      await swap;
    }
    const counts = await Promise.all(readers);
    expect(counts.every((n) => n === 1)).toBe(true);
  });

  it('drops, lists collections (filtered by name) and lists indexes', async () => {
    await db.collection('a').insertOne({ x: 1 });
    await db.collection('b').insertOne({ x: 1 });
    expect((await db.listCollections({ name: 'b' }).toArray()).map((c) => c.name)).toEqual(['b']);
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['a', 'b']);

    await db.collection('a').createIndex({ x: -1, y: 1 }, { sparse: true });
    expect(await db.collection('a').indexes()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { x: -1, y: 1 }, name: 'x_-1_y_1', sparse: true },
    ]);
    await db.collection('a').dropIndex('x_-1_y_1');
    expect((await db.collection('a').indexes()).map((i) => i.name)).toEqual(['_id_']);

    expect(await db.collection('a').drop()).toBe(true);
    await expect(db.collection('a').drop()).rejects.toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
    await expect(db.collection('a').indexes()).rejects.toMatchObject({ code: 26 });
    await db.dropDatabase();
    expect(await db.listCollections().toArray()).toEqual([]);
  });

  it('aggregates with $match, $group and $sort', async () => {
    const sales = db.collection('sales');
    await sales.insertMany([
      { sku: 'b', qty: 2, paid: true },
      { sku: 'a', qty: 1, paid: true },
      { sku: 'b', qty: 5, paid: true },
      { sku: 'c', qty: 9, paid: false },
    ]);
    const totals = await sales
      .aggregate([{ $match: { paid: true } }, { $group: { _id: '$sku', qty: { $sum: '$qty' } } }, { $sort: { qty: -1 } }])
      .toArray();
    expect(totals).toEqual([
      { _id: 'b', qty: 7 },
      { _id: 'a', qty: 1 },
    ]);
    expect(await sales.countDocuments({ paid: true })).toBe(3);
    expect((await sales.distinct('sku')).sort()).toEqual(['a', 'b', 'c']);
  });

  it('answers unknown commands with CommandNotFound', async () => {
    const failure = await db.command({ xyz: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MongoServerError);
    expect(failure).toMatchObject({ code: 59, codeName: 'CommandNotFound', errmsg: "no such command: 'xyz'" });
  });

  it('answers disabled commands and update operators as unknown', async () => {
    const limited = await startMongoDouble({ disabledCommands: ['renameCollection'], disabledUpdateOperators: ['$setOnInsert'] });
    try {
      await withClient(limited, async (c) => {
        const target = c.db('d');
        await target.collection('from').insertOne({ x: 1 });
        await expect(target.renameCollection('from', 'to')).rejects.toMatchObject({ code: 59, errmsg: "no such command: 'renameCollection'" });
        await expect(target.collection('from').updateOne({ x: 1 }, { $setOnInsert: { y: 1 } }, { upsert: true })).rejects.toMatchObject({
          code: 9,
        });
        expect(await target.collection('from').updateOne({ x: 1 }, { $set: { y: 1 } })).toMatchObject({ modifiedCount: 1 });
      });
    } finally {
      await limited.stop();
    }
    await expect(startMongoDouble({ disabledCommands: ['renameColection'] })).rejects.toThrow(/renameColection/);
  });
});

describe('mongo double: wire framing', () => {
  let double: MongoDouble;
  beforeAll(async () => {
    double = await startMongoDouble();
  });
  afterAll(() => double.stop());

  function opQuery(requestId: number, command: object): Buffer {
    const ns = Buffer.from('admin.$cmd\0');
    const doc = BSON.serialize(command);
    const head = Buffer.alloc(20);
    head.writeInt32LE(16 + 4 + ns.length + 8 + doc.length, 0);
    head.writeInt32LE(requestId, 4);
    head.writeInt32LE(2004, 12);
    const skipReturn = Buffer.alloc(8);
    skipReturn.writeInt32LE(-1, 4);
    return Buffer.concat([head, ns, skipReturn, doc]);
  }

  function opMsg(requestId: number, command: object, sequence?: { id: string; docs: object[] }): Buffer {
    const body = Buffer.concat([Buffer.from([0]), BSON.serialize(command)]);
    let seq = Buffer.alloc(0);
    if (sequence) {
      const docs = Buffer.concat(sequence.docs.map((d) => BSON.serialize(d)));
      const id = Buffer.from(`${sequence.id}\0`);
      const size = Buffer.alloc(4);
      size.writeInt32LE(4 + id.length + docs.length);
      seq = Buffer.concat([Buffer.from([1]), size, id, docs]);
    }
    const head = Buffer.alloc(20);
    head.writeInt32LE(20 + body.length + seq.length, 0);
    head.writeInt32LE(requestId, 4);
    head.writeInt32LE(2013, 12);
    return Buffer.concat([head, body, seq]);
  }

  /** Reads `count` replies as [responseTo, opCode, body document]. */
  function replies(socket: Socket, count: number): Promise<Array<[number, number, Record<string, unknown>]>> {
    return new Promise((resolve) => {
      let pending = Buffer.alloc(0);
      const out: Array<[number, number, Record<string, unknown>]> = [];
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
          const frame = pending.subarray(0, pending.readInt32LE(0));
          const opCode = frame.readInt32LE(12);
          out.push([frame.readInt32LE(8), opCode, BSON.deserialize(frame.subarray(opCode === 1 ? 36 : 21))]);
          pending = pending.subarray(frame.length);
        }
        if (out.length >= count) resolve(out);
      });
    });
  }

  it('handles a legacy OP_QUERY handshake split byte by byte and OP_MSGs coalesced in one chunk', async () => {
    const socket = connect(double.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const received = replies(socket, 3);
    for (const byte of opQuery(7, { isMaster: 1, helloOk: true })) socket.write(Buffer.from([byte]));
    socket.write(
      Buffer.concat([
        opMsg(8, { insert: 'c', $db: 'framing' }, { id: 'documents', docs: [{ _id: 1 }, { _id: 2 }] }),
        opMsg(9, { count: 'c', $db: 'framing' }),
      ]),
    );
    const [hello, insert, count] = await received;
    socket.destroy();

    expect(hello).toEqual([7, 1, expect.objectContaining({ ismaster: true, helloOk: true, maxWireVersion: 21, ok: 1 })]);
    expect(hello[2]).not.toHaveProperty('setName');
    expect(insert).toEqual([8, 2013, { n: 2, ok: 1 }]);
    expect(count).toEqual([9, 2013, { n: 2, ok: 1 }]);
  });
});
