import { fold } from '../shared/decider';
import { InvalidCommand, InvariantViolation, NotFoundError } from '../shared/domain-errors';
import { givenWhenThen } from '../../test/support/given-when-then';
import { orderDecider } from './order.decider';
import type { OrderStatus } from '../../src/contracts';
import type { OrderCommand, OrderEvent, PlaceOrderLine } from './order';

const given = givenWhenThen(orderDecider);
const orderId = 'o1';
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const line = (sku: string, quantity: number, amount: number, currency = 'EUR'): PlaceOrderLine => ({
  sku,
  name: `${sku} name`,
  quantity,
  unitPrice: { amount, currency },
});
const place = (lines: PlaceOrderLine[]): OrderCommand => ({
  type: 'PlaceOrder',
  orderId,
  customerId: 'c1',
  lines,
  paymentToken: 'tok_approve',
});

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId,
    customerId: 'c1',
    lines: [{ sku: 'MUG', name: 'MUG name', quantity: 2, unitPrice: eur(1250), lineTotal: eur(2500) }],
    total: eur(2500),
    paymentToken: 'tok_approve',
  },
};
const stockReserved: OrderEvent = { type: 'OrderStockReserved', data: { orderId } };
const authorized: OrderEvent = {
  type: 'OrderPaymentAuthorized',
  data: { orderId, authorizationId: 'auth_1', amount: eur(2500) },
};
const declined: OrderEvent = { type: 'OrderPaymentDeclined', data: { orderId, reason: 'card declined' } };
const placedLines = [{ sku: 'MUG', name: 'MUG name', quantity: 2, unitPrice: eur(1250), lineTotal: eur(2500) }];
const confirmed: OrderEvent = {
  type: 'OrderConfirmed',
  data: { orderId, customerId: 'c1', lines: placedLines, total: eur(2500) },
};
const shipped: OrderEvent = { type: 'OrderShipped', data: { orderId } };
const rejected: OrderEvent = { type: 'OrderRejected', data: { orderId, reason: 'insufficient-stock', sku: 'MUG' } };
const cancelled = (by: 'customer' | 'saga' = 'saga', previousStatus: OrderStatus = 'pending'): OrderEvent => ({
  type: 'OrderCancelled',
  data: { orderId, reason: 'changed my mind', by, previousStatus, lines: placedLines, total: eur(2500) },
});
const settlement = { orderId, authorizationId: 'auth_1', amount: eur(2500) };
const captured: OrderEvent = { type: 'OrderPaymentCaptured', data: settlement };
const refunded: OrderEvent = { type: 'OrderPaymentRefunded', data: settlement };

const histories = {
  pending: [placed],
  stock_reserved: [placed, stockReserved],
  paid: [placed, stockReserved, authorized],
  confirmed: [placed, stockReserved, authorized, confirmed],
  shipped: [placed, stockReserved, authorized, confirmed, shipped],
  rejected: [placed, rejected],
  cancelled: [placed, cancelled()],
};
type Status = keyof typeof histories;

const markStockReserved: OrderCommand = { type: 'MarkStockReserved', orderId };
const reject: OrderCommand = { type: 'RejectOrder', orderId, reason: 'insufficient-stock', sku: 'MUG' };
const recordAuthorized: OrderCommand = { type: 'RecordPaymentAuthorized', ...settlement };
const recordDeclined: OrderCommand = { type: 'RecordPaymentDeclined', orderId, reason: 'card declined' };
const confirm: OrderCommand = { type: 'ConfirmOrder', orderId };
const ship: OrderCommand = { type: 'ShipOrder', orderId };
const cancel = (by: 'customer' | 'saga'): OrderCommand => ({
  type: 'CancelOrder',
  orderId,
  reason: 'changed my mind',
  by,
});
const recordCaptured: OrderCommand = { type: 'RecordPaymentCaptured', ...settlement };
const recordRefunded: OrderCommand = { type: 'RecordPaymentRefunded', ...settlement };

/** Asserts the refusal is an invalid transition that names the status the order is in. */
function expectInvalidTransition(history: OrderEvent[], command: OrderCommand, status: string) {
  given(history)
    .when(command)
    .thenThrows(
      InvariantViolation,
      expect.objectContaining({ reason: 'invalid-transition', details: { orderId, status, command: command.type } }),
      new RegExp(status),
    );
}

describe('order decider: placing', () => {
  it('places an order with line totals and a total in integer minor units', () => {
    given([]).when(place([line('MUG', 3, 1299), line('TEA', 1, 450), line('PEN', 7, 15)])).then([
      {
        type: 'OrderPlaced',
        data: {
          orderId,
          customerId: 'c1',
          lines: [
            { sku: 'MUG', name: 'MUG name', quantity: 3, unitPrice: eur(1299), lineTotal: eur(3897) },
            { sku: 'TEA', name: 'TEA name', quantity: 1, unitPrice: eur(450), lineTotal: eur(450) },
            { sku: 'PEN', name: 'PEN name', quantity: 7, unitPrice: eur(15), lineTotal: eur(105) },
          ],
          total: eur(4452),
          paymentToken: 'tok_approve',
        },
      },
    ]);
  });

  it('accepts exactly 50 lines and folds into a pending order', () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(`SKU-${i}`, 1, 100));
    const events = given([])
      .when(place(lines))
      .then([{ type: 'OrderPlaced', data: expect.objectContaining({ total: eur(5000) }) }]);
    const state = fold(orderDecider, events);
    expect(state).toMatchObject({ status: 'pending', orderId, customerId: 'c1', payment: { status: 'none' } });
    expect(state.lines).toHaveLength(50);
  });

  it('refuses to place an order twice', () => {
    given([placed])
      .when(place([line('MUG', 1, 100)]))
      .thenThrows(expect.objectContaining({ name: 'InvariantViolation', reason: 'order-exists', details: { orderId } }));
  });

  it.each([
    ['no-lines', [], undefined],
    ['too-many-lines', Array.from({ length: 51 }, (_, i) => line(`SKU-${i}`, 1, 100)), undefined],
    ['invalid-quantity', [line('MUG', 1, 100), line('TEA', 0, 100)], 'TEA'],
    ['invalid-quantity', [line('MUG', -2, 100)], 'MUG'],
    ['invalid-quantity', [line('MUG', 1.5, 100)], 'MUG'],
    ['duplicate-sku', [line('MUG', 1, 100), line('TEA', 1, 100), line('MUG', 2, 100)], 'MUG'],
    ['mixed-currencies', [line('MUG', 1, 100), line('TEA', 1, 100, 'USD')], 'TEA'],
    ['invalid-price', [line('MUG', 1, 9.99)], 'MUG'],
  ])('refuses %s', (reason, lines, sku) => {
    given([])
      .when(place(lines))
      .thenThrows(
        InvalidCommand,
        expect.objectContaining({ reason, details: expect.objectContaining({ orderId }) }),
        ...(sku ? [expect.objectContaining({ details: expect.objectContaining({ sku }) })] : []),
      );
  });

  it.each([
    markStockReserved,
    reject,
    recordAuthorized,
    recordDeclined,
    confirm,
    cancel('customer'),
    ship,
    recordCaptured,
    recordRefunded,
  ])(
    'answers $type on an unknown order with not-found',
    (command) => {
      given([])
        .when(command)
        .thenThrows(NotFoundError, expect.objectContaining({ reason: 'unknown-order', details: { orderId } }));
    },
  );
});

describe('order decider: saga steps', () => {
  it('marks stock reserved once, and ignores it when already at or past that step', () => {
    given(histories.pending).when(markStockReserved).then([stockReserved]);
    for (const status of ['stock_reserved', 'paid', 'confirmed', 'shipped'] as Status[]) {
      given(histories[status]).when(markStockReserved).then([]);
    }
    given([...histories.stock_reserved, cancelled()]).when(markStockReserved).then([]);
    expectInvalidTransition(histories.rejected, markStockReserved, 'rejected');
    expectInvalidTransition(histories.cancelled, markStockReserved, 'cancelled');
  });

  it('rejects a pending order, naming the sku, and only once', () => {
    given(histories.pending).when(reject).then([rejected]);
    given(histories.pending).when({ type: 'RejectOrder', orderId, reason: 'timeout' }).then([
      { type: 'OrderRejected', data: { orderId, reason: 'timeout' } },
    ]);
    given(histories.rejected).when(reject).then([]);
    expect(fold(orderDecider, histories.rejected)).toMatchObject({ status: 'rejected', reason: 'insufficient-stock' });
    expectInvalidTransition(histories.stock_reserved, reject, 'stock_reserved');
    expectInvalidTransition(histories.cancelled, reject, 'cancelled');
  });

  it('records an authorization on a reserved order, making it paid', () => {
    given(histories.stock_reserved).when(recordAuthorized).then([authorized]);
    expect(fold(orderDecider, histories.paid)).toMatchObject({
      status: 'paid',
      payment: { status: 'authorized', authorizationId: 'auth_1', amount: eur(2500) },
    });
    for (const status of ['paid', 'confirmed', 'shipped'] as Status[]) {
      given(histories[status]).when(recordAuthorized).then([]);
    }
    given([...histories.paid, cancelled()]).when(recordAuthorized).then([]);
    expectInvalidTransition(histories.pending, recordAuthorized, 'pending');
    expectInvalidTransition(histories.rejected, recordAuthorized, 'rejected');
  });

  it('refuses a second, different authorization for a paid order', () => {
    given(histories.paid)
      .when({ ...recordAuthorized, authorizationId: 'auth_2' })
      .thenThrows(expect.objectContaining({ reason: 'authorization-mismatch' }));
  });

  it('records a decline without leaving stock_reserved, once', () => {
    given(histories.stock_reserved).when(recordDeclined).then([declined]);
    const history = [...histories.stock_reserved, declined];
    expect(fold(orderDecider, history)).toMatchObject({
      status: 'stock_reserved',
      payment: { status: 'declined' },
      reason: 'card declined',
    });
    given(history).when(recordDeclined).then([]);
    given([...history, cancelled()]).when(recordDeclined).then([]);
    expectInvalidTransition(histories.pending, recordDeclined, 'pending');
    expectInvalidTransition(histories.paid, recordDeclined, 'paid');
  });

  it('confirms a paid order once', () => {
    given(histories.paid).when(confirm).then([confirmed]);
    given(histories.confirmed).when(confirm).then([]);
    given(histories.shipped).when(confirm).then([]);
    given([...histories.confirmed, cancelled()]).when(confirm).then([]);
    expectInvalidTransition(histories.stock_reserved, confirm, 'stock_reserved');
    expectInvalidTransition([...histories.paid, cancelled()], confirm, 'cancelled');
  });
});

describe('order decider: cancelling and shipping', () => {
  it.each(['pending', 'stock_reserved', 'paid', 'confirmed'] as Status[])('cancels a %s order', (status) => {
    given(histories[status]).when(cancel('customer')).then([cancelled('customer', status)]);
    expect(fold(orderDecider, [...histories[status], cancelled('customer')])).toMatchObject({
      status: 'cancelled',
      reason: 'changed my mind',
      cancelledFrom: status,
    });
  });

  it.each(['shipped', 'rejected'] as Status[])('refuses to cancel a %s order', (status) => {
    expectInvalidTransition(histories[status], cancel('customer'), status);
    expectInvalidTransition(histories[status], cancel('saga'), status);
  });

  it('ignores a repeated saga cancellation but tells a customer the order is already cancelled', () => {
    given(histories.cancelled).when(cancel('saga')).then([]);
    expectInvalidTransition(histories.cancelled, cancel('customer'), 'cancelled');
    given(histories.cancelled).when(cancel('customer')).thenThrows('order o1 is already cancelled');
  });

  it('ships only a confirmed order', () => {
    given(histories.confirmed).when(ship).then([shipped]);
    for (const status of ['pending', 'stock_reserved', 'paid', 'shipped', 'rejected', 'cancelled'] as Status[]) {
      expectInvalidTransition(histories[status], ship, status);
    }
  });
});

describe('order decider: capture and refund', () => {
  it('captures the payment of a shipped order once', () => {
    given(histories.shipped).when(recordCaptured).then([captured]);
    const history = [...histories.shipped, captured];
    expect(fold(orderDecider, history).payment).toEqual({
      status: 'captured',
      authorizationId: 'auth_1',
      amount: eur(2500),
    });
    given(history).when(recordCaptured).then([]);
    expectInvalidTransition(histories.confirmed, recordCaptured, 'confirmed');
    expectInvalidTransition([...histories.paid, cancelled()], recordCaptured, 'cancelled');
    given(histories.shipped)
      .when({ ...recordCaptured, authorizationId: 'auth_x' })
      .thenThrows(expect.objectContaining({ reason: 'authorization-mismatch' }));
  });

  it('refunds the payment of a cancelled order once', () => {
    const history = [...histories.paid, cancelled()];
    given(history).when(recordRefunded).then([refunded]);
    expect(fold(orderDecider, [...history, refunded]).payment.status).toBe('refunded');
    given([...history, refunded]).when(recordRefunded).then([]);
  });

  it('refunds nothing that was not authorized, nor an order that is not cancelled', () => {
    expectInvalidTransition(histories.cancelled, recordRefunded, 'cancelled');
    expectInvalidTransition(histories.paid, recordRefunded, 'paid');
    expectInvalidTransition(histories.shipped, recordRefunded, 'shipped');
  });
});

describe('order decider: evolve', () => {
  it('leaves the state untouched by an unknown event type', () => {
    const state = fold(orderDecider, histories.paid);
    expect(orderDecider.evolve(state, { type: 'Unknown', data: {} } as unknown as OrderEvent)).toBe(state);
  });
});

describe('order decider: a customer cancelling', () => {
  const cancelAs = (ownedBy: string): OrderCommand => ({ type: 'CancelOrder', orderId, reason: 'changed my mind', by: 'customer', ownedBy });
  it("cancels its own order, and finds another customer's as if it did not exist", () => {
    given(histories.pending)
      .when(cancelAs('c1'))
      .then([{ type: 'OrderCancelled', data: expect.objectContaining({ orderId, by: 'customer' }) }]);
    given(histories.pending)
      .when(cancelAs('c2'))
      .thenThrows(NotFoundError, expect.objectContaining({ reason: 'unknown-order' }));
  });
});
