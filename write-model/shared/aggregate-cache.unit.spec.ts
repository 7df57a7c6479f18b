import fc from 'fast-check';
import { NewEvent, orderStreamId, PRODUCT_STREAM, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { commandCases, runCommands } from '../../test/support/command-arbitraries';
import { InMemoryEventStore } from '../../test/support/in-memory-event-store';
import { productDecider } from '../catalog/product.decider';
import { ReceiveStock, ReceiveStockHandler } from '../inventory/inventory.commands';
import { stockDecider } from '../inventory/stock.decider';
import { PlaceOrder, PlaceOrderHandler } from '../orders/orders.commands';
import { AggregateStore, CommandContext } from './aggregate-store';
import type { AggregateCollector } from './command-metrics';

// The backoff between lost races is random milliseconds; the specs need not wait for it.
jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(async () => undefined) }));

const mugStockId = stockStreamId('MUG');
const mugStock = { id: 'MUG', streamId: mugStockId, streamType: STOCK_STREAM, decider: stockDecider };
const mugProduct = { id: 'MUG', streamId: productStreamId('MUG'), streamType: PRODUCT_STREAM, decider: productDecider };
const context: CommandContext = { correlationId: 'kept' };
const receive = (quantity: number) => ({ type: 'ReceiveStock', sku: 'MUG', quantity }) as const;
const reserve = (orderId: string, quantity: number) =>
  ({ type: 'ReserveStock', sku: 'MUG', orderId, quantity, productDiscontinued: false }) as const;

/** Counts what the store reports of its kept aggregates. */
function counting() {
  const counts = { hit: 0, miss: 0, stale: 0 };
  const metrics: AggregateCollector = {
    optimisticRetry: () => undefined,
    keptState: (result) => void (counts[result] += 1),
  };
  return { counts, metrics };
}

/** An aggregate store that keeps aggregates, and another writer (a second process, keeping none) on the same events. */
function setUp(options: { snapshotEvery?: number } = {}) {
  const events = new InMemoryEventStore();
  const { counts, metrics } = counting();
  const aggregates = new AggregateStore(events, { cacheSize: 100, metrics, ...options });
  const other = new AggregateStore(events);
  const readTails = jest.spyOn(events, 'readTails');
  /** The streams the store was asked for since the last call. */
  const storeReads = () => {
    const streams = readTails.mock.calls.flatMap(([requests]) => requests.map((r) => r.streamId));
    readTails.mockClear();
    return streams;
  };
  return { events, aggregates, other, counts, storeReads };
}

const stockData = async (events: InMemoryEventStore) =>
  (await events.readStream(mugStockId)).events.map(({ type, data }) => ({ type, data }));

describe('kept aggregates: the next command skips the load', () => {
  it('decides the next command on an aggregate from the state the last one left, reading nothing', async () => {
    const { aggregates, counts, storeReads } = setUp();
    await aggregates.handle(mugStock, receive(2), context);
    expect(storeReads()).toEqual([mugStockId]);

    const result = await aggregates.handle(mugStock, receive(3), context);
    expect(storeReads()).toEqual([]);
    expect(result.version).toBe(2);
    expect(counts).toEqual({ hit: 1, miss: 1, stale: 0 });
    // What it kept is what a load from the store makes of the stream.
    expect(await aggregates.handle(mugStock, receive(1), context)).toMatchObject({ version: 3 });
    expect((await aggregates.load(stockDecider, mugStockId)).state).toMatchObject({ onHand: 6 });
  });

  it('keeps nothing without a cache size', async () => {
    const events = new InMemoryEventStore();
    const aggregates = new AggregateStore(events);
    const readTails = jest.spyOn(events, 'readTails');
    await aggregates.handle(mugStock, receive(2), context);
    await aggregates.handle(mugStock, receive(3), context);
    expect(readTails).toHaveBeenCalledTimes(2);
  });

  it('still saves a snapshot every snapshotEvery events while commands skip the load', async () => {
    const { events, aggregates, storeReads } = setUp({ snapshotEvery: 3 });
    for (let n = 1; n <= 7; n++) await aggregates.handle(mugStock, receive(1), context);
    expect(storeReads()).toEqual([mugStockId]);
    expect(events.savedSnapshots.map((s) => s.streamVersion)).toEqual([3, 6]);
    expect(events.snapshot(mugStockId)).toMatchObject({ streamVersion: 6, state: { onHand: 6 }, last: { position: 6 } });
  });
});

describe('kept aggregates: a kept state behind its stream decides nothing', () => {
  it('loses the optimistic check when another process appended, and is decided again on the store state', async () => {
    const { events, aggregates, other, counts, storeReads } = setUp();
    await aggregates.handle(mugStock, receive(2), context);
    await other.handle(mugStock, receive(5), context);
    storeReads();

    const result = await aggregates.handle(mugStock, receive(3), context);
    expect(result.version).toBe(3);
    // The append decided on the kept state (version 1) was refused; the one decided on the store's (version 2) landed.
    expect(events.appendCalls.slice(-2).map(([append]) => append.expectedVersion)).toEqual([1, 2]);
    expect(storeReads()).toEqual([mugStockId]);
    expect(counts.stale).toBe(1);
    expect((await stockData(events)).map(({ data }) => (data as { onHand: number }).onHand)).toEqual([2, 7, 10]);
  });

  it('decides a refusal again on the store state before answering it', async () => {
    const { events, aggregates, other, counts } = setUp();
    await aggregates.handle(mugStock, receive(1), context);
    await aggregates.handle(mugStock, reserve('o1', 1), context); // kept: nothing available
    await other.handle(mugStock, receive(5), context);

    await expect(aggregates.handle(mugStock, reserve('o2', 3), context)).resolves.toMatchObject({ version: 4 });
    expect(counts.stale).toBe(1);
    expect((await stockData(events)).at(-1)).toMatchObject({ type: 'StockReserved', data: { orderId: 'o2', onHand: 6, reserved: 4 } });
  });

  it('still refuses what the store state refuses', async () => {
    const { aggregates, other } = setUp();
    await aggregates.handle(mugStock, receive(1), context);
    await other.handle(mugStock, reserve('o1', 1), context);
    await expect(aggregates.handle(mugStock, reserve('o2', 1), context)).rejects.toMatchObject({ reason: 'insufficient-stock' });
  });

  it('decides a command that changes nothing again on the store state', async () => {
    const { events, aggregates, other } = setUp();
    await aggregates.handle(mugStock, receive(2), context); // kept: no reservation for o1
    await other.handle(mugStock, reserve('o1', 2), context);

    // On the kept state, releasing o1 changes nothing; on the store's, it releases the reservation.
    await expect(aggregates.handle(mugStock, { type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' }, context)).resolves.toMatchObject({
      version: 3,
    });
    expect((await stockData(events)).at(-1)).toMatchObject({ type: 'StockReleased', data: { orderId: 'o1', reserved: 0 } });
  });

  it('reads a stream from the store for a while after its kept state proved behind', async () => {
    const { aggregates, other, storeReads } = setUp();
    await aggregates.handle(mugStock, receive(2), context);
    await other.handle(mugStock, receive(5), context);
    await aggregates.handle(mugStock, receive(3), context);
    storeReads();
    // Another process writes the stream too: a kept state would be behind again, so none is kept.
    await aggregates.handle(mugStock, receive(1), context);
    expect(storeReads()).toEqual([mugStockId]);
  });

  it('drops the kept states of a command whose append failed for another reason (its outcome unknown)', async () => {
    const { events, aggregates, storeReads } = setUp();
    await aggregates.handle(mugStock, receive(2), context);
    events.beforeAppend = () => {
      events.beforeAppend = undefined;
      throw new Error('connection terminated');
    };
    await expect(aggregates.handle(mugStock, receive(3), context)).rejects.toThrow('connection terminated');
    storeReads();
    await expect(aggregates.handle(mugStock, receive(3), context)).resolves.toMatchObject({ version: 2 });
    expect(storeReads()).toEqual([mugStockId]);
  });
});

describe('kept aggregates: reads the append does not check', () => {
  /** The mug registered at 9.00 through `aggregates` (which keeps it), then repriced to 12.00 by another process. */
  async function keptThenRepriced(aggregates: AggregateStore<InMemoryEventStore>, other: AggregateStore<InMemoryEventStore>) {
    const register = {
      type: 'RegisterProduct',
      sku: 'MUG',
      name: 'Mug',
      description: '',
      price: { amount: 900, currency: 'EUR' },
    } as const;
    await aggregates.handle(mugProduct, register, context);
    await other.handle(mugProduct, { type: 'ChangeProductPrice', sku: 'MUG', price: { amount: 1200, currency: 'EUR' } }, context);
  }

  it('decides again on the store state when a kept stream was read but not checked', async () => {
    const { events, aggregates, other, storeReads, counts } = setUp();
    await keptThenRepriced(aggregates, other);
    storeReads();
    // A decision that copies the price into the stock stream, whose append does not check the product.
    const priced = await aggregates.run(context, mugStockId, async (reads) => {
      const [product, stock] = await reads.loadPair(
        { decider: productDecider, streamId: mugProduct.streamId },
        { decider: stockDecider, streamId: mugStockId },
      );
      const events: NewEvent[] = [
        {
          type: 'StockAdjusted',
          data: { sku: 'MUG', quantity: product.state.price.amount, onHand: product.state.price.amount, reserved: 0, reason: 'price' },
        },
      ];
      return {
        id: 'MUG',
        streamId: mugStockId,
        appends: [{ streamId: mugStockId, streamType: STOCK_STREAM, expectedVersion: stock.version, events }],
      };
    });
    expect(priced.version).toBe(1);
    expect(counts.stale).toBe(1);
    expect(storeReads()).toEqual([mugStockId, mugProduct.streamId, mugStockId]);
    expect((await stockData(events))[0]).toMatchObject({ data: { quantity: 1200 } });
  });

  it('takes a settled read from the kept state: a receipt needs the product registered, which it stays', async () => {
    const { aggregates, storeReads } = setUp();
    const receipts = new ReceiveStockHandler(aggregates as unknown as AggregateStore);
    await aggregates.handle(
      mugProduct,
      { type: 'RegisterProduct', sku: 'MUG', name: 'Mug', description: '', price: { amount: 900, currency: 'EUR' } },
      context,
    );
    await receipts.execute(new ReceiveStock({ type: 'ReceiveStock', sku: 'MUG', quantity: 2 }, context));
    storeReads();
    await expect(receipts.execute(new ReceiveStock({ type: 'ReceiveStock', sku: 'MUG', quantity: 3 }, context))).resolves.toMatchObject({
      version: 2,
    });
    expect(storeReads()).toEqual([]);
  });

  it('never takes prices from a kept product when an order is placed', async () => {
    const { events, aggregates, other, storeReads, counts } = setUp();
    await keptThenRepriced(aggregates, other);
    storeReads();
    const order = { orderId: 'o1', customerId: 'c1', lines: [{ sku: 'MUG', quantity: 1 }], paymentToken: 'tok_approve' };
    await new PlaceOrderHandler(aggregates as unknown as AggregateStore).execute(new PlaceOrder(order, context));
    // Read from the store at once: not decided on the kept product first and then again.
    expect(storeReads()).toEqual([orderStreamId('o1'), mugProduct.streamId]);
    expect(counts.stale).toBe(0);
    const [placed] = (await events.readStream(orderStreamId('o1'))).events;
    expect(placed.data).toMatchObject({ lines: [{ sku: 'MUG', unitPrice: { amount: 1200 } }] });
  });
});

describe('kept aggregates change no decision', () => {
  it.each(commandCases)(
    'the $name decider answers every command sequence alike, with two processes keeping aggregates',
    async ({ aggregate, commands, start }) => {
      const { counts, metrics } = counting();
      const sequences = fc
        .tuple(
          fc.boolean(),
          fc.array(fc.record({ command: commands as fc.Arbitrary<never>, writer: fc.nat(5) }), { minLength: 1, maxLength: 40 }),
        )
        .map(([existing, rest]) =>
          existing ? [...(start as unknown as never[]).map((command) => ({ command, writer: 0 })), ...rest] : rest,
        );
      await fc.assert(
        fc.asyncProperty(sequences, async (sequence) => {
          const loaded = await runCommands(aggregate as never, sequence, (events) => [new AggregateStore(events)]);
          const kept = await runCommands(aggregate as never, sequence, (events) => [
            new AggregateStore(events, { cacheSize: 10, metrics }),
            new AggregateStore(events, { cacheSize: 10, metrics }),
          ]);
          expect(kept.answers).toEqual(loaded.answers);
          expect(kept.stream).toEqual(loaded.stream);
          expect(kept.loaded).toEqual(loaded.loaded);
        }),
        { numRuns: 150 },
      );
      // Worth something only if decisions were made on kept states, and some of them on stale ones.
      expect(counts.hit).toBeGreaterThan(100);
      expect(counts.stale).toBeGreaterThan(10);
    },
  );
});
