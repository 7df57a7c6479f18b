import type { Money, OrderStatus, RecordedOrderEvent } from '../../src/contracts';
import type { Projection, ProjectionHandler } from '../projector/projection';

export const CUSTOMER_ORDERS = 'customer_orders';

export interface CustomerOrderView {
  id: string;
  customerId: string;
  status: OrderStatus;
  total: Money;
  lineCount: number;
  units: number;
  placedAt: string;
  updatedAt: string;
}

const STATUS_OF: Partial<Record<RecordedOrderEvent['type'], OrderStatus>> = {
  OrderStockReserved: 'stock_reserved',
  OrderRejected: 'rejected',
  OrderPaymentAuthorized: 'paid',
  OrderConfirmed: 'confirmed',
  OrderCancelled: 'cancelled',
  OrderShipped: 'shipped',
};

const placed: ProjectionHandler<RecordedOrderEvent, CustomerOrderView> = {
  collection: CUSTOMER_ORDERS,
  documentId: (event) => event.data.orderId,
  apply: (_, event) => {
    const { orderId, customerId, lines, total } = event.data as Extract<RecordedOrderEvent, { type: 'OrderPlaced' }>['data'];
    const at = new Date(event.recordedAt).toISOString();
    return {
      id: orderId,
      customerId,
      status: 'pending',
      total,
      lineCount: lines.length,
      units: lines.reduce((sum, line) => sum + line.quantity, 0),
      placedAt: at,
      updatedAt: at,
    };
  },
};

const moved: ProjectionHandler<RecordedOrderEvent, CustomerOrderView> = {
  collection: CUSTOMER_ORDERS,
  documentId: (event) => event.data.orderId,
  apply: (doc, event) =>
    doc ? { ...doc, status: STATUS_OF[event.type] ?? doc.status, updatedAt: new Date(event.recordedAt).toISOString() } : null,
};

/** A customer's orders, newest first: one small document per order, filtered by customer and status. */
export const customerOrdersProjection: Projection = {
  name: 'customer-orders',
  views: [{ collection: CUSTOMER_ORDERS, fields: { customerId: 'string', status: 'string', placedAt: 'string' } }],
  handlers: {
    OrderPlaced: [placed],
    ...Object.fromEntries(Object.keys(STATUS_OF).map((type) => [type, [moved]])),
  },
};
