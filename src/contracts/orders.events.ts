import type { Money } from './money';
import type { RecordedEvent } from './envelope';

export const ORDER_STREAM = 'order';
export const orderStreamId = (orderId: string) => `order-${orderId}`;

export const ordersSchemaVersions = {
  OrderPlaced: 1,
  OrderStockReserved: 1,
  OrderRejected: 1,
  OrderPaymentAuthorized: 1,
  OrderPaymentDeclined: 1,
  OrderConfirmed: 1,
  OrderCancelled: 1,
  OrderShipped: 1,
  OrderPaymentCaptured: 1,
  OrderPaymentRefunded: 1,
} as const;

export type OrderStatus = 'pending' | 'stock_reserved' | 'paid' | 'confirmed' | 'shipped' | 'rejected' | 'cancelled';
export type PaymentStatus = 'none' | 'authorized' | 'declined' | 'captured' | 'refunded';

/** A line as placed: the name and unit price are the catalog's at placement, kept on the order. */
export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
}

export interface OrderPlaced {
  type: 'OrderPlaced';
  data: { orderId: string; customerId: string; lines: OrderLine[]; total: Money; paymentToken: string };
}
/** Every line is reserved (the saga's first step succeeded). */
export interface OrderStockReserved {
  type: 'OrderStockReserved';
  data: { orderId: string };
}
/** A line could not be reserved; nothing stays reserved. */
export interface OrderRejected {
  type: 'OrderRejected';
  data: { orderId: string; reason: string; sku?: string };
}
export interface OrderPaymentAuthorized {
  type: 'OrderPaymentAuthorized';
  data: { orderId: string; authorizationId: string; amount: Money };
}
export interface OrderPaymentDeclined {
  type: 'OrderPaymentDeclined';
  data: { orderId: string; reason: string };
}
/** Carries what was sold, so counter views (daily sales) need nothing but the event. */
export interface OrderConfirmed {
  type: 'OrderConfirmed';
  data: { orderId: string; customerId: string; lines: OrderLine[]; total: Money };
}
/** Carries the status it ended and what the order held, so a cancelled sale can be taken back. */
export interface OrderCancelled {
  type: 'OrderCancelled';
  data: {
    orderId: string;
    reason: string;
    by: 'customer' | 'saga';
    previousStatus: OrderStatus;
    lines: OrderLine[];
    total: Money;
  };
}
export interface OrderShipped {
  type: 'OrderShipped';
  data: { orderId: string };
}
export interface OrderPaymentCaptured {
  type: 'OrderPaymentCaptured';
  data: { orderId: string; authorizationId: string; amount: Money };
}
export interface OrderPaymentRefunded {
  type: 'OrderPaymentRefunded';
  data: { orderId: string; authorizationId: string; amount: Money };
}

export type OrderEvent =
  | OrderPlaced
  | OrderStockReserved
  | OrderRejected
  | OrderPaymentAuthorized
  | OrderPaymentDeclined
  | OrderConfirmed
  | OrderCancelled
  | OrderShipped
  | OrderPaymentCaptured
  | OrderPaymentRefunded;
export type RecordedOrderEvent = RecordedEvent<OrderEvent['type']> & OrderEvent;

/** Simulated gateway tokens (DESIGN.md): approve, decline, never answer, fail twice then approve. */
export const PAYMENT_TOKENS = ['tok_approve', 'tok_decline', 'tok_timeout', 'tok_flaky'] as const;
export const PAYMENT_TOKEN_PATTERN = /^tok_[a-z0-9_]{1,60}$/;
