import { commutative, ConflictPolicies, strict } from '../shared/conflict-policy';
import type { InventoryEvent, Stock, StockCommand } from './stock';

/**
 * How each stock command sent with an outdated If-Match is resolved. Receipts and signed
 * adjustments are deltas, and deltas commute: they are decided against the current levels and
 * refused only by the invariants (never less on hand than zero or than is reserved). The
 * reservation commands are the saga's, addressed by order id; they stay strict.
 */
export const stockConflicts: ConflictPolicies<Stock, StockCommand, InventoryEvent> = {
  ReceiveStock: commutative(),
  AdjustStock: commutative(),
  ReserveStock: strict(),
  ReleaseStock: strict(),
  CommitStock: strict(),
};
