import type { Money, OrderLine, OrderStatus, PaymentStatus, RecordedOrderEvent } from '../../src/contracts';
import type { Projection, ProjectionHandler } from '../projector/projection';

export const ORDERS = 'orders';

export interface TimelineEntry {
  at: string;
  event: string;
  status: OrderStatus;
  reason?: string;
}

export interface OrderSummaryView {
  id: string;
  customerId: string;
  lines: OrderLine[];
  total: Money;
  status: OrderStatus;
  statusReason: string | null;
  timeline: TimelineEntry[];
  payment: { status: PaymentStatus; authorizationId?: string; amount?: Money };
  placedAt: string;
  /** The order aggregate's version (the ETag of GET /orders/{id}). */
  version: number;
}

type Change = (doc: OrderSummaryView, event: RecordedOrderEvent) => Partial<OrderSummaryView> & { status?: OrderStatus; reason?: string };

/** Every order event moves the summary on and adds a timeline entry with its time. */
const step = (change: Change): ProjectionHandler<RecordedOrderEvent, OrderSummaryView> => ({
  collection: ORDERS,
  documentId: (event) => event.data.orderId,
  apply: (doc, event) => {
    if (!doc) return null; // nothing before OrderPlaced: the relay's order makes this unreachable
    const { reason, ...changes } = change(doc, event);
    const status = changes.status ?? doc.status;
    const at = new Date(event.recordedAt).toISOString();
    return {
      ...doc,
      ...changes,
      statusReason: reason ?? (changes.status ? null : doc.statusReason),
      timeline: [...doc.timeline, { at, event: event.type, status, ...(reason && { reason }) }],
      version: event.streamVersion,
    };
  },
});

const data = <T extends RecordedOrderEvent['type']>(event: RecordedOrderEvent, _type: T) =>
  event.data as Extract<RecordedOrderEvent, { type: T }>['data'];

export const orderSummaryProjection: Projection = {
  name: 'order-summary',
  views: [{ collection: ORDERS, fields: { customerId: 'string', status: 'string', placedAt: 'string' } }],
  handlers: {
    OrderPlaced: [
      {
        collection: ORDERS,
        documentId: (event: RecordedOrderEvent) => event.data.orderId,
        apply: (_doc: OrderSummaryView | undefined, event: RecordedOrderEvent): OrderSummaryView => {
          const placed = data(event, 'OrderPlaced');
          const at = new Date(event.recordedAt).toISOString();
          return {
            id: placed.orderId,
            customerId: placed.customerId,
            lines: placed.lines,
            total: placed.total,
            status: 'pending',
            statusReason: null,
            timeline: [{ at, event: event.type, status: 'pending' }],
            payment: { status: 'none' },
            placedAt: at,
            version: event.streamVersion,
          };
        },
      },
    ],
    OrderStockReserved: [step(() => ({ status: 'stock_reserved' }))],
    OrderRejected: [step((_, e) => ({ status: 'rejected', reason: data(e, 'OrderRejected').reason }))],
    OrderPaymentAuthorized: [
      step((_, e) => {
        const { authorizationId, amount } = data(e, 'OrderPaymentAuthorized');
        return { status: 'paid', payment: { status: 'authorized', authorizationId, amount } };
      }),
    ],
    OrderPaymentDeclined: [
      step((doc, e) => ({ payment: { ...doc.payment, status: 'declined' }, reason: data(e, 'OrderPaymentDeclined').reason })),
    ],
    OrderConfirmed: [step(() => ({ status: 'confirmed' }))],
    OrderCancelled: [step((_, e) => ({ status: 'cancelled', reason: data(e, 'OrderCancelled').reason }))],
    OrderShipped: [step(() => ({ status: 'shipped' }))],
    OrderPaymentCaptured: [step((doc) => ({ payment: { ...doc.payment, status: 'captured' } }))],
    OrderPaymentRefunded: [step((doc) => ({ payment: { ...doc.payment, status: 'refunded' } }))],
  },
};
