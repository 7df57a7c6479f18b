import fc from 'fast-check';
import { NewEvent, ORDER_STREAM, orderStreamId, PRODUCT_STREAM, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { productDecider } from '../../write-model/catalog/product.decider';
import type { ProductCommand } from '../../write-model/catalog/product';
import { stockDecider } from '../../write-model/inventory/stock.decider';
import type { StockCommand } from '../../write-model/inventory/stock';
import { orderDecider } from '../../write-model/orders/order.decider';
import type { OrderCommand } from '../../write-model/orders/order';
import { AggregateStore } from '../../write-model/shared/aggregate-store';
import type { Decider } from '../../write-model/shared/decider';
import { InMemoryEventStore } from './in-memory-event-store';

/**
 * Random commands for the property specs of the aggregate store (snapshots, kept aggregates):
 * each decider's commands over a small set of values, so that sequences hit every branch.
 */
const eur = (amount: number) => ({ amount, currency: 'EUR' });

export const productCommands: fc.Arbitrary<ProductCommand> = fc.oneof(
  fc.record({
    type: fc.constant('RegisterProduct' as const),
    sku: fc.constant('P'),
    name: fc.constantFrom('Mug', 'Cup'),
    description: fc.constant(''),
    price: fc.integer({ min: 0, max: 3 }).map(eur),
  }),
  fc.record({
    type: fc.constant('UpdateProductDetails' as const),
    sku: fc.constant('P'),
    name: fc.option(fc.constantFrom('Mug', 'Cup', 'Bowl'), { nil: undefined }),
    description: fc.option(fc.constantFrom('', 'big'), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('ChangeProductPrice' as const),
    sku: fc.constant('P'),
    price: fc.record({ amount: fc.integer({ min: 0, max: 3 }), currency: fc.constantFrom('EUR', 'EUR', 'USD') }),
  }),
  fc.record({ type: fc.constant('DiscontinueProduct' as const), sku: fc.constant('P') }),
);

const orderIds = fc.constantFrom('o1', 'o2', 'o3', 'o4');
export const stockCommands: fc.Arbitrary<StockCommand> = fc.oneof(
  fc.record({ type: fc.constant('ReceiveStock' as const), sku: fc.constant('S'), quantity: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    type: fc.constant('AdjustStock' as const),
    sku: fc.constant('S'),
    quantity: fc.integer({ min: -5, max: 5 }),
    reason: fc.constant('count'),
  }),
  fc.record({
    type: fc.constant('ReserveStock' as const),
    sku: fc.constant('S'),
    orderId: orderIds,
    quantity: fc.integer({ min: 1, max: 4 }),
    productDiscontinued: fc.constantFrom(false, false, false, true),
  }),
  fc.record({ type: fc.constant('ReleaseStock' as const), sku: fc.constant('S'), orderId: orderIds }),
  fc.record({ type: fc.constant('CommitStock' as const), sku: fc.constant('S'), orderId: orderIds }),
);

const line = fc.record({
  sku: fc.constantFrom('A', 'B'),
  name: fc.constant('Thing'),
  quantity: fc.integer({ min: 0, max: 3 }),
  unitPrice: fc.integer({ min: 1, max: 9 }).map(eur),
});
const authorization = { authorizationId: fc.constantFrom('a1', 'a2'), amount: fc.constant(eur(10)) };
export const orderCommands: fc.Arbitrary<OrderCommand> = fc.oneof(
  fc.record({
    type: fc.constant('PlaceOrder' as const),
    orderId: fc.constant('o1'),
    customerId: fc.constant('c1'),
    lines: fc.array(line, { minLength: 0, maxLength: 2 }),
    paymentToken: fc.constant('tok_approve'),
  }),
  fc.record({ type: fc.constant('MarkStockReserved' as const), orderId: fc.constant('o1') }),
  fc.record({
    type: fc.constant('RejectOrder' as const),
    orderId: fc.constant('o1'),
    reason: fc.constant('no stock'),
    sku: fc.option(fc.constant('A'), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('RecordPaymentAuthorized' as const), orderId: fc.constant('o1'), ...authorization }),
  fc.record({ type: fc.constant('RecordPaymentDeclined' as const), orderId: fc.constant('o1'), reason: fc.constant('declined') }),
  fc.record({ type: fc.constant('ConfirmOrder' as const), orderId: fc.constant('o1') }),
  fc.record({
    type: fc.constant('CancelOrder' as const),
    orderId: fc.constant('o1'),
    reason: fc.constant('changed mind'),
    by: fc.constantFrom('customer' as const, 'saga' as const),
  }),
  fc.record({ type: fc.constant('ShipOrder' as const), orderId: fc.constant('o1') }),
  fc.record({ type: fc.constant('RecordPaymentCaptured' as const), orderId: fc.constant('o1'), ...authorization }),
  fc.record({ type: fc.constant('RecordPaymentRefunded' as const), orderId: fc.constant('o1'), ...authorization }),
);

const placed: OrderCommand = {
  type: 'PlaceOrder',
  orderId: 'o1',
  customerId: 'c1',
  lines: [{ sku: 'A', name: 'Thing', quantity: 1, unitPrice: eur(10) }],
  paymentToken: 'tok_approve',
};
const productRegistered: ProductCommand = { type: 'RegisterProduct', sku: 'P', name: 'Mug', description: '', price: eur(1) };

/** Each decider with its commands; most sequences start where the aggregate exists, so that they reach past the first command. */
export const commandCases = [
  {
    name: 'product',
    aggregate: { id: 'P', streamId: productStreamId('P'), streamType: PRODUCT_STREAM, decider: productDecider },
    commands: productCommands,
    start: [productRegistered],
  },
  {
    name: 'stock',
    aggregate: { id: 'S', streamId: stockStreamId('S'), streamType: STOCK_STREAM, decider: stockDecider },
    commands: stockCommands,
    start: [],
  },
  {
    name: 'order',
    aggregate: { id: 'o1', streamId: orderStreamId('o1'), streamType: ORDER_STREAM, decider: orderDecider },
    commands: orderCommands,
    start: [placed],
  },
] as const;

/**
 * Runs commands through aggregate stores on one event store in memory, each command through its
 * writer's store (`writer` modulo their number), and records every answer (result or refusal),
 * the stream's events and the final load: what the property specs compare.
 */
export async function runCommands<S, C extends { type: string }, E extends NewEvent>(
  aggregate: { id: string; streamId: string; streamType: string; decider: Decider<S, C, E> },
  commands: { command: C; writer: number }[],
  stores: (events: InMemoryEventStore) => AggregateStore<InMemoryEventStore>[],
) {
  const events = new InMemoryEventStore();
  const writers = stores(events);
  const answers: unknown[] = [];
  for (const { command, writer } of commands) {
    answers.push(
      await writers[writer % writers.length]
        .handle(aggregate, command, { correlationId: 'property' })
        .catch((error: { name: string; reason?: string; message: string }) => ({
          refused: error.name,
          reason: error.reason,
          message: error.message,
        })),
    );
  }
  const stream = (await events.readStream(aggregate.streamId)).events.map(({ type, data, streamVersion, position }) => ({
    type,
    data,
    streamVersion,
    position,
  }));
  return { answers, stream, loaded: await writers[0].load(aggregate.decider, aggregate.streamId), events };
}
