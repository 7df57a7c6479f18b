import fc from 'fast-check';
import { PRODUCT_STREAM, productStreamId, stockStreamId } from '../../src/contracts';
import { InMemoryEventStore } from '../../test/support/in-memory-event-store';
import { AggregateStore, CommandContext } from '../shared/aggregate-store';
import {
  CommitStock,
  CommitStockHandler,
  ReceiveStock,
  ReceiveStockHandler,
  ReleaseStock,
  ReleaseStockHandler,
  ReserveStock,
  ReserveStockHandler,
} from './inventory.commands';
import { stockDecider } from './stock.decider';

jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(async () => undefined) }));

const sku = 'MUG';
/** As the order saga sends them: the key names the causing event and the step. */
const saga = (key: string): CommandContext => ({
  correlationId: 'saga',
  actor: 'order-saga',
  idempotency: { scope: 'order-saga', key, requestHash: key },
});

type Step =
  | { type: 'receive'; quantity: number }
  | { type: 'reserve'; order: string }
  | { type: 'release'; order: string; cause: string }
  | { type: 'commit'; order: string; cause: string };

const orders = fc.constantFrom('o1', 'o2', 'o3');
const causes = fc.constantFrom('placed', 'rejected', 'cancelled', 'shipped');
const steps: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ type: fc.constant('receive' as const), quantity: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ type: fc.constant('reserve' as const), order: orders }),
  fc.record({ type: fc.constant('release' as const), order: orders, cause: causes }),
  fc.record({ type: fc.constant('commit' as const), order: orders, cause: causes }),
);

/**
 * The stock state keeps only open reservations, so the decider alone cannot tell an ended
 * reservation from one never made. What keeps each reservation ending at most once: a
 * reservation is made only by the saga, once per order line, under the one idempotency key
 * `<OrderPlaced id>/reserve/<sku>`, so a redelivered reserve is answered from the key and never
 * reserves again; and an end removes the open reservation in the same append the stream's
 * version guards, so a second release or commit finds nothing to end.
 */
describe('a reservation ends at most once, with only open reservations in the state', () => {
  it('holds for any interleaving of redelivered reserves, releases and commits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(steps, { minLength: 1, maxLength: 50 }), async (sequence) => {
        const events = new InMemoryEventStore();
        events.commit(productStreamId(sku), PRODUCT_STREAM, [
          { type: 'ProductRegistered', data: { sku, name: 'Mug', description: '', price: { amount: 1, currency: 'EUR' } } },
        ]);
        const aggregates = new AggregateStore(events, { snapshotEvery: 2 });
        // The handlers are typed for the PostgreSQL store; they use only what the in-memory one has.
        const store = aggregates as unknown as AggregateStore;
        const handlers = {
          receive: new ReceiveStockHandler(store),
          reserve: new ReserveStockHandler(store),
          release: new ReleaseStockHandler(store),
          commit: new CommitStockHandler(store),
        };
        for (const step of sequence) {
          const refusedOrDone = (promise: Promise<unknown>) => promise.catch((error: Error) => expect(error.name).toBe('InvariantViolation'));
          if (step.type === 'receive') {
            await handlers.receive.execute(new ReceiveStock({ type: 'ReceiveStock', sku, quantity: step.quantity }, { correlationId: 'clerk' }));
          } else if (step.type === 'reserve') {
            const command = new ReserveStock({ type: 'ReserveStock', sku, orderId: step.order, quantity: 1 }, saga(`placed-${step.order}/reserve/${sku}`));
            await refusedOrDone(handlers.reserve.execute(command));
          } else if (step.type === 'release') {
            const command = new ReleaseStock({ type: 'ReleaseStock', sku, orderId: step.order }, saga(`${step.cause}-${step.order}/release/${sku}`));
            await refusedOrDone(handlers.release.execute(command));
          } else {
            const command = new CommitStock({ type: 'CommitStock', sku, orderId: step.order }, saga(`${step.cause}-${step.order}/commit/${sku}`));
            await refusedOrDone(handlers.commit.execute(command));
          }
        }
        const stream = (await events.readStream(stockStreamId(sku))).events as { type: string; data: { orderId?: string; onHand: number; reserved: number } }[];
        for (const order of ['o1', 'o2', 'o3']) {
          const of = (...types: string[]) => stream.filter((e) => types.includes(e.type) && e.data.orderId === order).length;
          expect(of('StockReserved')).toBeLessThanOrEqual(1);
          expect(of('StockReleased', 'StockCommitted')).toBeLessThanOrEqual(of('StockReserved'));
        }
        const { state } = await aggregates.load(stockDecider, stockStreamId(sku));
        const open = Object.values(state.reservations).reduce((sum, r) => sum + r.quantity, 0);
        expect(state.reserved).toBe(open);
        expect(state.onHand - state.reserved).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 200 },
    );
  });
});
