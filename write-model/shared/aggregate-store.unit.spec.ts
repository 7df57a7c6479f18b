import { decodeToken, PRODUCT_STREAM, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { InMemoryEventStore } from '../../test/support/in-memory-event-store';
import { ConcurrencyError, IdempotencyKeyReusedError } from '../event-store/event-store';
import { productConflicts } from '../catalog/product.conflicts';
import { productDecider } from '../catalog/product.decider';
import { stockConflicts } from '../inventory/stock.conflicts';
import { stockDecider } from '../inventory/stock.decider';
import { AggregateStore, CommandContext, requestHash } from './aggregate-store';
import { EditConflict } from './conflict-policy';
import { PreconditionFailed } from './domain-errors';

// The backoff between lost races is random milliseconds; the specs need not wait for it.
jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(async () => undefined) }));

const streamId = stockStreamId('MUG');
const mugStock = { id: 'MUG', streamId, streamType: STOCK_STREAM, decider: stockDecider };
const receive = (quantity: number) => ({ type: 'ReceiveStock', sku: 'MUG', quantity }) as const;
const received = (quantity: number, onHand: number) => ({
  type: 'StockReceived',
  data: { sku: 'MUG', onHand, reserved: 0, quantity },
});
const context = (extra: Partial<CommandContext> = {}): CommandContext => ({ correlationId: 'c-1', ...extra });
const keyed = (key: string, body: unknown): CommandContext =>
  context({ idempotency: { scope: 'POST /inventory/{sku}/receipts', key, requestHash: requestHash(body) } });

function setUp() {
  const events = new InMemoryEventStore();
  return { events, aggregates: new AggregateStore(events) };
}
/** The mug's stream as the decider sees it: types and data. */
const stream = async (events: InMemoryEventStore) =>
  (await events.readStream(streamId)).events.map(({ type, data }) => ({ type, data }));

describe('AggregateStore: load, decide, append', () => {
  it('appends what the decider decides and answers the new version with a token locating the write', async () => {
    const { events, aggregates } = setUp();
    const result = await aggregates.handle(mugStock, receive(5), context({ actor: 'clerk' }));
    const [event] = (await events.readStream(streamId)).events;
    expect(result).toEqual({ id: 'MUG', version: 1, token: expect.any(String) });
    expect(decodeToken(result.token)).toEqual({
      txId: event.txId,
      position: event.position,
      streamId,
      version: 1,
      at: event.recordedAt.getTime(),
    });
    expect(event).toMatchObject({ ...received(5, 5), streamVersion: 1, metadata: { correlationId: 'c-1', actor: 'clerk' } });
  });

  it('appends nothing when the decider decides nothing, answering the version as it is', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(5, 5)]);
    const result = await aggregates.handle(mugStock, { type: 'ReleaseStock', sku: 'MUG', orderId: 'unknown' }, context());
    expect(result).toMatchObject({ id: 'MUG', version: 1 });
    expect(decodeToken(result.token)).toMatchObject({ version: 1, position: 1 });
    expect(events.appendCalls).toHaveLength(0);
  });

  it('lets the writers of one stream in this process take turns instead of racing', async () => {
    const { events, aggregates } = setUp();
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => aggregates.handle(mugStock, receive(n), context())));
    expect(results.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(events.appendCalls).toHaveLength(5);
    expect(events.version(streamId)).toBe(5);
  });
});

describe('AggregateStore: a lost race', () => {
  it('reloads and decides again against the state that won, not the one it lost with', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2)]);
    let racers = 1;
    events.beforeAppend = () => {
      if (racers-- > 0) events.commit(streamId, STOCK_STREAM, [received(5, 7)]);
    };
    const decide = jest.spyOn(stockDecider, 'decide');
    try {
      const result = await aggregates.handle(mugStock, receive(3), context());
      expect(result.version).toBe(3);
      expect(decide).toHaveBeenCalledTimes(2);
      expect(events.appendCalls.map(([append]) => append.expectedVersion)).toEqual([1, 2]);
      expect(await stream(events)).toEqual([received(2, 2), received(5, 7), received(3, 10)]);
    } finally {
      decide.mockRestore();
    }
  });

  it('gives up after 100 attempts with the ConcurrencyError, having appended nothing of its own', async () => {
    const { events, aggregates } = setUp();
    events.beforeAppend = () => events.commit(streamId, STOCK_STREAM, [received(1, events.version(streamId) + 1)]);
    await expect(aggregates.handle(mugStock, receive(3), context())).rejects.toBeInstanceOf(ConcurrencyError);
    expect(events.appendCalls).toHaveLength(100);
    expect(await stream(events)).not.toContainEqual(received(3, expect.any(Number)));
  });
});

describe('AggregateStore: If-Match', () => {
  it('answers a precondition failure and appends nothing when the version moved on', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2), received(1, 3)]);
    const refused = aggregates.handle(mugStock, receive(3), context({ expectedVersion: 1 }));
    await expect(refused).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(refused).rejects.toMatchObject({ streamId, expectedVersion: 1, actualVersion: 2 });
    expect(events.appendCalls).toHaveLength(0);
    expect(events.version(streamId)).toBe(2);
  });

  it('answers a race lost under If-Match at once, without reloading: the version the client saw is gone', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2)]);
    events.beforeAppend = () => {
      events.beforeAppend = undefined;
      events.commit(streamId, STOCK_STREAM, [received(5, 7)]);
    };
    const reads = jest.spyOn(events, 'readTails');
    const refused = aggregates.handle(mugStock, receive(3), context({ expectedVersion: 1 }));
    await expect(refused).rejects.toMatchObject({ name: 'PreconditionFailed', expectedVersion: 1, actualVersion: 2 });
    expect(reads).toHaveBeenCalledTimes(1);
    expect(events.appendCalls).toHaveLength(1);
    expect(await stream(events)).toEqual([received(2, 2), received(5, 7)]);
  });

  it('appends when the version is the one the client saw', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2)]);
    await expect(aggregates.handle(mugStock, receive(3), context({ expectedVersion: 1 }))).resolves.toMatchObject({ version: 2 });
  });
});

describe('AggregateStore: conflict policies under an outdated If-Match', () => {
  const rebasingStock = { ...mugStock, conflicts: stockConflicts };
  const mugId = productStreamId('MUG');
  const mug = { id: 'MUG', streamId: mugId, streamType: PRODUCT_STREAM, decider: productDecider, conflicts: productConflicts };
  const registered = {
    type: 'ProductRegistered',
    data: { sku: 'MUG', name: 'Mug', description: 'White', price: { amount: 900, currency: 'EUR' } },
  };
  const renamed = (name: string) => ({ type: 'ProductDetailsUpdated', data: { sku: 'MUG', name, description: 'White' } });
  const edit = (fields: { name?: string; description?: string }) => ({ type: 'UpdateProductDetails', sku: 'MUG', ...fields }) as const;

  it('rebases a commutative command onto the current version and says so in the answer', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2), received(1, 3)]);
    const result = await aggregates.handle(rebasingStock, receive(3), context({ expectedVersion: 1 }));
    expect(result).toEqual({ id: 'MUG', version: 3, token: expect.any(String), resolution: 'rebased' });
    expect(events.appendCalls.map(([append]) => append.expectedVersion)).toEqual([2]);
    expect(await stream(events)).toEqual([received(2, 2), received(1, 3), received(3, 6)]);
  });

  it('resolves a race lost under If-Match again instead of answering 412, when the policy is not strict', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2)]);
    events.beforeAppend = () => {
      events.beforeAppend = undefined;
      events.commit(streamId, STOCK_STREAM, [received(5, 7)]);
    };
    const result = await aggregates.handle(rebasingStock, receive(3), context({ expectedVersion: 1 }));
    expect(result).toMatchObject({ version: 3, resolution: 'rebased' });
    expect(await stream(events)).toEqual([received(2, 2), received(5, 7), received(3, 10)]);
  });

  it('refuses an If-Match newer than the stream whatever the policy', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2)]);
    await expect(aggregates.handle(rebasingStock, receive(3), context({ expectedVersion: 5 }))).rejects.toBeInstanceOf(PreconditionFailed);
    expect(events.appendCalls).toHaveLength(0);
  });

  it('merges by field with the actors of the events since, from their metadata', async () => {
    const { events, aggregates } = setUp();
    events.commit(mugId, PRODUCT_STREAM, [registered]);
    events.commit(mugId, PRODUCT_STREAM, [renamed('Big mug')], { correlationId: 'c-9', actor: 'alice' });
    const merged = await aggregates.handle(mug, edit({ description: 'Blue' }), context({ expectedVersion: 1 }));
    expect(merged).toMatchObject({ version: 3, resolution: 'merged' });
    const conflict = aggregates.handle(mug, edit({ name: 'Tall mug' }), context({ expectedVersion: 1 }));
    await expect(conflict).rejects.toBeInstanceOf(EditConflict);
    await expect(conflict).rejects.toMatchObject({
      conflicts: [{ field: 'name', requested: 'Tall mug', current: 'Big mug', changedInVersion: 2, changedBy: 'alice' }],
    });
    expect(events.appendCalls).toHaveLength(1);
  });

  it('answers a merge that changes nothing with the current version and appends nothing', async () => {
    const { events, aggregates } = setUp();
    events.commit(mugId, PRODUCT_STREAM, [registered, renamed('Big mug')]);
    const result = await aggregates.handle(mug, edit({ name: 'Big mug' }), context({ expectedVersion: 1 }));
    expect(result).toMatchObject({ version: 2, resolution: 'merged' });
    expect(decodeToken(result.token)).toMatchObject({ version: 2, position: 2 });
    expect(events.appendCalls).toHaveLength(0);
  });

  it('records a merge that changes nothing under its Idempotency-Key, so a retry after the field moved on replays it', async () => {
    const { events, aggregates } = setUp();
    events.commit(mugId, PRODUCT_STREAM, [registered, renamed('Big mug')]);
    const body = { name: 'Big mug' };
    const keyedEdit = context({
      expectedVersion: 1,
      idempotency: { scope: 'PATCH /products/{sku}', key: 'k-same', requestHash: requestHash(body) },
    });
    const first = await aggregates.handle(mug, edit(body), keyedEdit);
    events.commit(mugId, PRODUCT_STREAM, [renamed('Tall mug')], { correlationId: 'c-9', actor: 'bob' });
    const again = await aggregates.handle(mug, edit(body), keyedEdit);
    expect(first).toMatchObject({ version: 2, resolution: 'merged' });
    expect(again).toEqual(first);
    expect(await events.readStream(mugId)).toMatchObject({ version: 3 });
  });

  it('replays a rebased answer, resolution included, under its Idempotency-Key', async () => {
    const { events, aggregates } = setUp();
    events.commit(streamId, STOCK_STREAM, [received(2, 2), received(1, 3)]);
    const keyedStale = { ...keyed('k-stale', { quantity: 3 }), expectedVersion: 1 };
    const first = await aggregates.handle(rebasingStock, receive(3), keyedStale);
    events.commit(streamId, STOCK_STREAM, [received(1, 7)]);
    const again = await aggregates.handle(rebasingStock, receive(3), keyedStale);
    expect(first.resolution).toBe('rebased');
    expect(again).toEqual(first);
    expect(events.appendCalls).toHaveLength(1);
  });
});

describe('AggregateStore: Idempotency-Key', () => {
  it('answers a replay with the first outcome and appends nothing, even after the stream moved on', async () => {
    const { events, aggregates } = setUp();
    const first = await aggregates.handle(mugStock, receive(3), keyed('k-1', { quantity: 3 }));
    events.commit(streamId, STOCK_STREAM, [received(1, 4)]);
    const again = await aggregates.handle(mugStock, receive(3), keyed('k-1', { quantity: 3 }));
    expect(again).toEqual(first);
    expect(events.appendCalls).toHaveLength(1);
    expect(await stream(events)).toEqual([received(3, 3), received(1, 4)]);
    expect((await events.readStream(streamId)).events[0].metadata).toEqual({ correlationId: 'c-1', idempotencyKey: 'k-1' });
  });

  it('refuses the same key with a different request and appends nothing', async () => {
    const { events, aggregates } = setUp();
    await aggregates.handle(mugStock, receive(3), keyed('k-1', { quantity: 3 }));
    const reused = aggregates.handle(mugStock, receive(4), keyed('k-1', { quantity: 4 }));
    await expect(reused).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(reused).rejects.toMatchObject({ key: 'k-1' });
    expect(events.appendCalls).toHaveLength(1);
    expect(await stream(events)).toEqual([received(3, 3)]);
  });

  it('answers the outcome of a concurrent request with the same key that committed first', async () => {
    const { events, aggregates } = setUp();
    const theirs = { id: 'MUG', version: 1, token: 'their-token' };
    events.beforeAppend = () => {
      events.beforeAppend = undefined;
      void events.append([{ streamId, streamType: STOCK_STREAM, expectedVersion: 0, events: [received(3, 3)] }], {
        metadata: { correlationId: 'c-2', idempotencyKey: 'k-1' },
        idempotency: keyed('k-1', { quantity: 3 }).idempotency,
        response: () => theirs,
      });
    };
    await expect(aggregates.handle(mugStock, receive(3), keyed('k-1', { quantity: 3 }))).resolves.toEqual(theirs);
    expect(await stream(events)).toEqual([received(3, 3)]);
  });

  it('keeps keys apart per scope', async () => {
    const { events, aggregates } = setUp();
    await aggregates.handle(mugStock, receive(3), keyed('k-1', { quantity: 3 }));
    const elsewhere = context({ idempotency: { scope: 'POST /inventory/{sku}/adjustments', key: 'k-1', requestHash: 'h' } });
    await expect(aggregates.handle(mugStock, receive(3), elsewhere)).resolves.toMatchObject({ version: 2 });
    expect(events.appendCalls).toHaveLength(2);
  });
});

describe('requestHash', () => {
  it('ignores key order and undefined fields, and tells different bodies apart', () => {
    expect(requestHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(requestHash({ b: { d: 'x', c: [1, 2] }, a: 1, e: undefined }));
    expect(requestHash({ a: 1, b: { c: [2, 1] } })).not.toBe(requestHash({ a: 1, b: { c: [1, 2] } }));
    expect(requestHash({ quantity: 3 })).not.toBe(requestHash({ quantity: '3' }));
  });
});
