import type { OrderEvent } from '../../src/contracts';
import { eventLog, givenEvents } from '../../test/support/projection-spec';
import { CUSTOMER_ORDERS, customerOrdersProjection, CustomerOrderView } from './customer-orders.projection';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const lines = [
  { sku: 'MUG', name: 'Mug', quantity: 2, unitPrice: eur(1250), lineTotal: eur(2500) },
  { sku: 'TEA', name: 'Tea', quantity: 3, unitPrice: eur(450), lineTotal: eur(1350) },
];
const total = eur(3850);
const at = (minute: number) => `2026-03-02T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** Orders' events, one a minute from 10:00. */
function orderLog() {
  const record = eventLog();
  let minute = 0;
  return (event: OrderEvent) => record(event, { at: at(minute++) });
}
const placedBy = (orderId: string, customerId: string): OrderEvent => ({
  type: 'OrderPlaced',
  data: { orderId, customerId, lines, total, paymentToken: 'tok_approve' },
});
const summary = (view: Partial<CustomerOrderView>): CustomerOrderView => ({
  id: 'o1',
  customerId: 'c1',
  status: 'pending',
  total,
  lineCount: 2,
  units: 5,
  placedAt: at(0),
  updatedAt: at(0),
  ...view,
});

describe('customer orders projection', () => {
  it('keeps one small document per order: its customer, total, line and unit counts', () => {
    const next = orderLog();
    givenEvents(customerOrdersProjection, [next(placedBy('o1', 'c1')), next(placedBy('o2', 'c2'))]).thenDocuments(
      CUSTOMER_ORDERS,
      { o1: summary({}), o2: summary({ id: 'o2', customerId: 'c2', placedAt: at(1), updatedAt: at(1) }) },
    );
  });

  it('moves the status on with each saga step and the time of the last one', () => {
    const next = orderLog();
    const placed = next(placedBy('o1', 'c1'));
    const reserved = next({ type: 'OrderStockReserved', data: { orderId: 'o1' } });
    const authorized = next({ type: 'OrderPaymentAuthorized', data: { orderId: 'o1', authorizationId: 'a1', amount: total } });
    const confirmed = next({ type: 'OrderConfirmed', data: { orderId: 'o1', customerId: 'c1', lines, total } });
    const shipped = next({ type: 'OrderShipped', data: { orderId: 'o1' } });
    givenEvents(customerOrdersProjection, [placed, reserved])
      .thenDocument(CUSTOMER_ORDERS, 'o1', summary({ status: 'stock_reserved', updatedAt: at(1) }))
      .andLater([authorized])
      .thenDocument(CUSTOMER_ORDERS, 'o1', summary({ status: 'paid', updatedAt: at(2) }))
      .andLater([confirmed, shipped])
      .thenDocument(CUSTOMER_ORDERS, 'o1', summary({ status: 'shipped', updatedAt: at(4) }));
  });

  it('ends an order as rejected or cancelled', () => {
    const next = orderLog();
    const events = [
      next(placedBy('o1', 'c1')),
      next(placedBy('o2', 'c1')),
      next({ type: 'OrderRejected', data: { orderId: 'o1', reason: 'insufficient-stock', sku: 'MUG' } }),
      next({
        type: 'OrderCancelled',
        data: { orderId: 'o2', reason: 'changed my mind', by: 'customer', previousStatus: 'pending', lines, total },
      }),
    ];
    givenEvents(customerOrdersProjection, events).thenDocuments(CUSTOMER_ORDERS, {
      o1: summary({ status: 'rejected', updatedAt: at(2) }),
      o2: summary({ id: 'o2', status: 'cancelled', placedAt: at(1), updatedAt: at(3) }),
    });
  });

  it('passes over payment events that do not change the status', () => {
    const next = orderLog();
    const placed = next(placedBy('o1', 'c1'));
    const declined = next({ type: 'OrderPaymentDeclined', data: { orderId: 'o1', reason: 'card declined' } });
    givenEvents(customerOrdersProjection, [placed, declined]).thenDocument(CUSTOMER_ORDERS, 'o1', summary({}));
  });

  it('makes no document from a step of an order it never saw placed', () => {
    const next = orderLog();
    givenEvents(customerOrdersProjection, [next({ type: 'OrderShipped', data: { orderId: 'o9' } })]).thenDocuments(
      CUSTOMER_ORDERS,
      {},
    );
  });
});
