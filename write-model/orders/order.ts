import type { Money, OrderEvent, OrderLine, OrderStatus, PaymentStatus } from '../../src/contracts';

export interface Order {
  status: OrderStatus | 'none';
  orderId: string;
  customerId: string;
  lines: OrderLine[];
  total: Money;
  paymentToken: string;
  payment: { status: PaymentStatus; authorizationId?: string; amount?: Money };
  /** Why the order was rejected or cancelled, or why its payment was declined. */
  reason?: string;
  /** The status a cancelled order left: tells a redelivered saga step whether it had already happened. */
  cancelledFrom?: OrderStatus;
}

/** A line as the customer asks for it; the decider computes its total. */
export interface PlaceOrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: Money;
}

export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; customerId: string; lines: PlaceOrderLine[]; paymentToken: string }
  | { type: 'MarkStockReserved'; orderId: string }
  | { type: 'RejectOrder'; orderId: string; reason: string; sku?: string }
  | { type: 'RecordPaymentAuthorized'; orderId: string; authorizationId: string; amount: Money }
  | { type: 'RecordPaymentDeclined'; orderId: string; reason: string }
  | { type: 'ConfirmOrder'; orderId: string }
  | { type: 'CancelOrder'; orderId: string; reason: string; by: 'customer' | 'saga'; ownedBy?: string }
  | { type: 'ShipOrder'; orderId: string }
  | { type: 'RecordPaymentCaptured'; orderId: string; authorizationId: string; amount: Money }
  | { type: 'RecordPaymentRefunded'; orderId: string; authorizationId: string; amount: Money };

export const MAX_ORDER_LINES = 50;

export type { OrderEvent };
