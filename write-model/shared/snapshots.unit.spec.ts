import fc from 'fast-check';
import { NewEvent, ORDER_STREAM, orderStreamId, PRODUCT_STREAM, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { InMemoryEventStore } from '../../test/support/in-memory-event-store';
import { productDecider } from '../catalog/product.decider';
import type { ProductCommand } from '../catalog/product';
import { stockDecider } from '../inventory/stock.decider';
import type { StockCommand } from '../inventory/stock';
import { orderDecider } from '../orders/order.decider';
import type { OrderCommand } from '../orders/order';
import { AggregateStore } from './aggregate-store';
import type { Decider } from './decider';

jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(async () => undefined) }));

const context = { correlationId: 'property' };
const eur = (amount: number) => ({ amount, currency: 'EUR' });

const productCommands: fc.Arbitrary<ProductCommand> = fc.oneof(
  fc.record({ type: fc.constant('RegisterProduct' as const), sku: fc.constant('P'), name: fc.constantFrom('Mug', 'Cup'), description: fc.constant(''), price: fc.integer({ min: 0, max: 3 }).map(eur) }),
  fc.record({ type: fc.constant('UpdateProductDetails' as const), sku: fc.constant('P'), name: fc.option(fc.constantFrom('Mug', 'Cup', 'Bowl'), { nil: undefined }), description: fc.option(fc.constantFrom('', 'big'), { nil: undefined }) }),
  fc.record({ type: fc.constant('ChangeProductPrice' as const), sku: fc.constant('P'), price: fc.record({ amount: fc.integer({ min: 0, max: 3 }), currency: fc.constantFrom('EUR', 'EUR', 'USD') }) }),
  fc.record({ type: fc.constant('DiscontinueProduct' as const), sku: fc.constant('P') }),
);

const orderIds = fc.constantFrom('o1', 'o2', 'o3', 'o4');
const stockCommands: fc.Arbitrary<StockCommand> = fc.oneof(
  fc.record({ type: fc.constant('ReceiveStock' as const), sku: fc.constant('S'), quantity: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ type: fc.constant('AdjustStock' as const), sku: fc.constant('S'), quantity: fc.integer({ min: -5, max: 5 }), reason: fc.constant('count') }),
  fc.record({ type: fc.constant('ReserveStock' as const), sku: fc.constant('S'), orderId: orderIds, quantity: fc.integer({ min: 1, max: 4 }), productDiscontinued: fc.constantFrom(false, false, false, true) }),
  fc.record({ type: fc.constant('ReleaseStock' as const), sku: fc.constant('S'), orderId: orderIds }),
  fc.record({ type: fc.constant('CommitStock' as const), sku: fc.constant('S'), orderId: orderIds }),
);

const line = fc.record({ sku: fc.constantFrom('A', 'B'), name: fc.constant('Thing'), quantity: fc.integer({ min: 0, max: 3 }), unitPrice: fc.integer({ min: 1, max: 9 }).map(eur) });
const authorization = { authorizationId: fc.constantFrom('a1', 'a2'), amount: fc.constant(eur(10)) };
const orderCommands: fc.Arbitrary<OrderCommand> = fc.oneof(
  fc.record({ type: fc.constant('PlaceOrder' as const), orderId: fc.constant('o1'), customerId: fc.constant('c1'), lines: fc.array(line, { minLength: 0, maxLength: 2 }), paymentToken: fc.constant('tok_approve') }),
  fc.record({ type: fc.constant('MarkStockReserved' as const), orderId: fc.constant('o1') }),
  fc.record({ type: fc.constant('RejectOrder' as const), orderId: fc.constant('o1'), reason: fc.constant('no stock'), sku: fc.option(fc.constant('A'), { nil: undefined }) }),
  fc.record({ type: fc.constant('RecordPaymentAuthorized' as const), orderId: fc.constant('o1'), ...authorization }),
  fc.record({ type: fc.constant('RecordPaymentDeclined' as const), orderId: fc.constant('o1'), reason: fc.constant('declined') }),
  fc.record({ type: fc.constant('ConfirmOrder' as const), orderId: fc.constant('o1') }),
  fc.record({ type: fc.constant('CancelOrder' as const), orderId: fc.constant('o1'), reason: fc.constant('changed mind'), by: fc.constantFrom('customer' as const, 'saga' as const) }),
  fc.record({ type: fc.constant('ShipOrder' as const), orderId: fc.constant('o1') }),
  fc.record({ type: fc.constant('RecordPaymentCaptured' as const), orderId: fc.constant('o1'), ...authorization }),
  fc.record({ type: fc.constant('RecordPaymentRefunded' as const), orderId: fc.constant('o1'), ...authorization }),
);

/** Runs the commands through an aggregate store and records every answer (result or refusal) and the final load. */
async function run<S, C extends { type: string }, E extends NewEvent>(
  aggregate: { id: string; streamId: string; streamType: string; decider: Decider<S, C, E> },
  commands: C[],
  snapshotEvery: number,
) {
  const events = new InMemoryEventStore();
  const aggregates = new AggregateStore(events, { snapshotEvery });
  const answers: unknown[] = [];
  for (const command of commands) {
    answers.push(
      await aggregates.handle(aggregate, command, context).catch((error: { name: string; reason?: string; message: string }) => ({
        refused: error.name,
        reason: error.reason,
        message: error.message,
      })),
    );
  }
  const stream = (await events.readStream(aggregate.streamId)).events.map(({ type, data }) => ({ type, data }));
  return { answers, stream, loaded: await aggregates.load(aggregate.decider, aggregate.streamId), snapshots: events.savedSnapshots.length };
}

const placed: OrderCommand = { type: 'PlaceOrder', orderId: 'o1', customerId: 'c1', lines: [{ sku: 'A', name: 'Thing', quantity: 1, unitPrice: eur(10) }], paymentToken: 'tok_approve' };
const productRegistered: ProductCommand = { type: 'RegisterProduct', sku: 'P', name: 'Mug', description: '', price: eur(1) };

/** Most sequences start where the aggregate exists, so that they reach past the first command. */
const cases = [
  { name: 'product', aggregate: { id: 'P', streamId: productStreamId('P'), streamType: PRODUCT_STREAM, decider: productDecider }, commands: productCommands, start: [productRegistered] },
  { name: 'stock', aggregate: { id: 'S', streamId: stockStreamId('S'), streamType: STOCK_STREAM, decider: stockDecider }, commands: stockCommands, start: [] },
  { name: 'order', aggregate: { id: 'o1', streamId: orderStreamId('o1'), streamType: ORDER_STREAM, decider: orderDecider }, commands: orderCommands, start: [placed] },
] as const;

describe('snapshots change no decision', () => {
  it.each(cases)('the $name decider answers every command sequence alike with and without snapshots', async ({ aggregate, commands, start }) => {
    let snapshotted = 0;
    const sequences = fc
      .tuple(fc.boolean(), fc.array(commands as fc.Arbitrary<never>, { minLength: 1, maxLength: 60 }))
      .map(([existing, rest]) => (existing ? [...(start as unknown as never[]), ...rest] : rest));
    await fc.assert(
      fc.asyncProperty(sequences, fc.integer({ min: 1, max: 4 }), async (sequence, every) => {
        const folded = await run(aggregate as never, sequence, 0);
        const snapshots = await run(aggregate as never, sequence, every);
        // Answers include the no-op answers' tokens, which name the last event: it survives in the snapshot.
        expect(snapshots.answers).toEqual(folded.answers);
        expect(snapshots.stream).toEqual(folded.stream);
        expect(snapshots.loaded).toEqual(folded.loaded);
        expect(folded.snapshots).toBe(0);
        snapshotted += snapshots.snapshots;
      }),
      { numRuns: 150 },
    );
    // The property is only worth something if loads really started from snapshots.
    expect(snapshotted).toBeGreaterThan(50);
  });
});

describe('snapshot versions', () => {
  const mug = { id: 'MUG', streamId: stockStreamId('MUG'), streamType: STOCK_STREAM, decider: stockDecider };
  const received = (quantity: number, onHand: number) => ({ type: 'StockReceived', data: { sku: 'MUG', onHand, reserved: 0, quantity } });

  it('ignores a snapshot of another snapshot version, folds the events and replaces it', async () => {
    const events = new InMemoryEventStore();
    events.commit(mug.streamId, STOCK_STREAM, [received(2, 2), received(3, 5)]);
    const last = { txId: '1', position: 2, recordedAt: new Date() };
    const stale = { onHand: 999, reserved: 0, sku: 'MUG', reservations: {} };
    events.plantSnapshot({ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version - 1, streamVersion: 2, state: stale, last });
    const aggregates = new AggregateStore(events, { snapshotEvery: 2 });

    const loaded = await aggregates.load(stockDecider, mug.streamId);
    expect(loaded.state).toEqual({ sku: 'MUG', onHand: 5, reserved: 0, reservations: {} });
    expect(events.snapshot(mug.streamId)).toMatchObject({ snapshotVersion: stockDecider.snapshot!.version, streamVersion: 2, state: { onHand: 5 } });
  });

  it('starts from a snapshot of its own version and folds only the events after it', async () => {
    const events = new InMemoryEventStore();
    events.commit(mug.streamId, STOCK_STREAM, [received(2, 2), received(3, 5), received(1, 6)]);
    const planted = { onHand: 5, reserved: 0, sku: 'MUG', reservations: { planted: { quantity: 1 } } };
    const last = { txId: '2', position: 2, recordedAt: new Date() };
    events.plantSnapshot({ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version, streamVersion: 2, state: planted, last });
    const loaded = await new AggregateStore(events).load(stockDecider, mug.streamId);
    // The planted reservation shows the snapshot was used; the third event's levels are folded over it.
    expect(loaded).toMatchObject({ version: 3, state: { onHand: 6, reservations: { planted: { quantity: 1 } } }, last: { position: 3 } });
    const tails = await events.readTails([{ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version }]);
    expect(tails.get(mug.streamId)!.events.map((e) => e.streamVersion)).toEqual([3]);
  });
});
