import { ConflictPolicies, strict } from '../shared/conflict-policy';
import type { Order, OrderCommand, OrderEvent } from './order';

/** An order's commands are status transitions: any change since the client's version refuses them (412). */
export const orderConflicts: ConflictPolicies<Order, OrderCommand, OrderEvent> = {
  PlaceOrder: strict(),
  MarkStockReserved: strict(),
  RejectOrder: strict(),
  RecordPaymentAuthorized: strict(),
  RecordPaymentDeclined: strict(),
  ConfirmOrder: strict(),
  CancelOrder: strict(),
  ShipOrder: strict(),
  RecordPaymentCaptured: strict(),
  RecordPaymentRefunded: strict(),
};
