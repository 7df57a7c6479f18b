import type { OrderEvent } from '../../src/contracts';
import { eventLog, givenEvents } from '../../test/support/projection-spec';
import { ORDERS, orderSummaryProjection, OrderSummaryView } from './order-summary.projection';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const orderId = 'o1';
const lines = [
  { sku: 'MUG', name: 'Mug', quantity: 2, unitPrice: eur(1250), lineTotal: eur(2500) },
  { sku: 'TEA', name: 'Tea', quantity: 1, unitPrice: eur(450), lineTotal: eur(450) },
];
const total = eur(2950);
const at = (minute: number) => `2026-03-02T10:${String(minute).padStart(2, '0')}:00.000Z`;
const settlement = { orderId, authorizationId: 'auth_1', amount: total };

/** The order's events, one a minute from 10:00, placed first. */
function orderLog() {
  const record = eventLog();
  let minute = 0;
  const next = (event: OrderEvent) => record(event, { at: at(minute++) });
  const placed = next({ type: 'OrderPlaced', data: { orderId, customerId: 'c1', lines, total, paymentToken: 'tok_approve' } });
  return { next, placed };
}

const pending: OrderSummaryView = {
  id: orderId,
  customerId: 'c1',
  lines,
  total,
  status: 'pending',
  statusReason: null,
  timeline: [{ at: at(0), event: 'OrderPlaced', status: 'pending' }],
  payment: { status: 'none' },
  placedAt: at(0),
  version: 1,
};

describe('order summary projection', () => {
  it('summarises a placed order as pending, with its lines and total', () => {
    const { placed } = orderLog();
    givenEvents(orderSummaryProjection, [placed]).thenDocument(ORDERS, orderId, pending);
  });

  it('follows the saga to shipped and captured, one timeline entry per event', () => {
    const { next, placed } = orderLog();
    const upToConfirmed = [
      placed,
      next({ type: 'OrderStockReserved', data: { orderId } }),
      next({ type: 'OrderPaymentAuthorized', data: settlement }),
      next({ type: 'OrderConfirmed', data: { orderId, customerId: 'c1', lines, total } }),
    ];
    const shipped = next({ type: 'OrderShipped', data: { orderId } });
    const captured = next({ type: 'OrderPaymentCaptured', data: settlement });
    const timeline = [
      ...pending.timeline,
      { at: at(1), event: 'OrderStockReserved', status: 'stock_reserved' },
      { at: at(2), event: 'OrderPaymentAuthorized', status: 'paid' },
      { at: at(3), event: 'OrderConfirmed', status: 'confirmed' },
    ];
    givenEvents(orderSummaryProjection, upToConfirmed)
      .thenDocument(ORDERS, orderId, {
        ...pending,
        status: 'confirmed',
        timeline,
        payment: { status: 'authorized', authorizationId: 'auth_1', amount: total },
        version: 4,
      })
      .andLater([shipped, captured])
      .thenDocument(ORDERS, orderId, {
        ...pending,
        status: 'shipped',
        timeline: [
          ...timeline,
          { at: at(4), event: 'OrderShipped', status: 'shipped' },
          { at: at(5), event: 'OrderPaymentCaptured', status: 'shipped' },
        ],
        payment: { status: 'captured', authorizationId: 'auth_1', amount: total },
        version: 6,
      });
  });

  it('keeps a decline as the reason without a status change, then the cancellation reason replaces it', () => {
    const { next, placed } = orderLog();
    const reserved = next({ type: 'OrderStockReserved', data: { orderId } });
    const declined = next({ type: 'OrderPaymentDeclined', data: { orderId, reason: 'card declined' } });
    const cancelled = next({
      type: 'OrderCancelled',
      data: { orderId, reason: 'payment declined: card declined', by: 'saga', previousStatus: 'stock_reserved', lines, total },
    });
    const timeline = [
      ...pending.timeline,
      { at: at(1), event: 'OrderStockReserved', status: 'stock_reserved' },
      { at: at(2), event: 'OrderPaymentDeclined', status: 'stock_reserved', reason: 'card declined' },
    ];
    givenEvents(orderSummaryProjection, [placed, reserved, declined])
      .thenDocument(ORDERS, orderId, {
        ...pending,
        status: 'stock_reserved',
        statusReason: 'card declined',
        timeline,
        payment: { status: 'declined' },
        version: 3,
      })
      .andLater([cancelled])
      .thenDocument(ORDERS, orderId, {
        ...pending,
        status: 'cancelled',
        statusReason: 'payment declined: card declined',
        timeline: [
          ...timeline,
          { at: at(3), event: 'OrderCancelled', status: 'cancelled', reason: 'payment declined: card declined' },
        ],
        payment: { status: 'declined' },
        version: 4,
      });
  });

  it('shows a rejection with its reason', () => {
    const { next, placed } = orderLog();
    const rejected = next({ type: 'OrderRejected', data: { orderId, reason: 'insufficient-stock', sku: 'MUG' } });
    givenEvents(orderSummaryProjection, [placed, rejected]).thenDocument(ORDERS, orderId, {
      ...pending,
      status: 'rejected',
      statusReason: 'insufficient-stock',
      timeline: [...pending.timeline, { at: at(1), event: 'OrderRejected', status: 'rejected', reason: 'insufficient-stock' }],
      version: 2,
    });
  });

  it('marks the payment refunded after a paid order is cancelled', () => {
    const { next, placed } = orderLog();
    const events = [
      placed,
      next({ type: 'OrderStockReserved', data: { orderId } }),
      next({ type: 'OrderPaymentAuthorized', data: settlement }),
      next({
        type: 'OrderCancelled',
        data: { orderId, reason: 'changed my mind', by: 'customer', previousStatus: 'paid', lines, total },
      }),
      next({ type: 'OrderPaymentRefunded', data: settlement }),
    ];
    givenEvents(orderSummaryProjection, events).thenDocument(ORDERS, orderId, {
      ...pending,
      status: 'cancelled',
      statusReason: 'changed my mind',
      timeline: [
        ...pending.timeline,
        { at: at(1), event: 'OrderStockReserved', status: 'stock_reserved' },
        { at: at(2), event: 'OrderPaymentAuthorized', status: 'paid' },
        { at: at(3), event: 'OrderCancelled', status: 'cancelled', reason: 'changed my mind' },
        { at: at(4), event: 'OrderPaymentRefunded', status: 'cancelled' },
      ],
      payment: { status: 'refunded', authorizationId: 'auth_1', amount: total },
      version: 5,
    });
  });

  it('adds no timeline entry for a redelivered event', () => {
    const { next, placed } = orderLog();
    const reserved = next({ type: 'OrderStockReserved', data: { orderId } });
    const expected = {
      ...pending,
      status: 'stock_reserved',
      timeline: [...pending.timeline, { at: at(1), event: 'OrderStockReserved', status: 'stock_reserved' }],
      version: 2,
    };
    givenEvents(orderSummaryProjection, [placed, reserved, reserved])
      .thenDocument(ORDERS, orderId, expected)
      .andLater([placed, reserved])
      .thenDocument(ORDERS, orderId, expected);
  });

  it('makes no document from a step of an order it never saw placed', () => {
    const record = eventLog();
    givenEvents(orderSummaryProjection, [record({ type: 'OrderShipped', data: { orderId: 'o9' } })]).thenDocuments(ORDERS, {});
  });
});
