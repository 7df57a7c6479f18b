import type { InventoryEvent } from '../../src/contracts';

export type ReservationStatus = 'reserved' | 'released' | 'committed';

export interface Stock {
  sku: string;
  onHand: number;
  reserved: number;
  /** Every reservation ever made, by order id: a reservation ends at most once. */
  reservations: Record<string, { quantity: number; status: ReservationStatus }>;
}

export type StockCommand =
  | { type: 'ReceiveStock'; sku: string; quantity: number }
  | { type: 'AdjustStock'; sku: string; quantity: number; reason: string }
  /** productDiscontinued is read from the product stream by the handler, guarded by its version. */
  | { type: 'ReserveStock'; sku: string; orderId: string; quantity: number; productDiscontinued: boolean }
  | { type: 'ReleaseStock'; sku: string; orderId: string }
  | { type: 'CommitStock'; sku: string; orderId: string };

export const available = (stock: Pick<Stock, 'onHand' | 'reserved'>) => stock.onHand - stock.reserved;

export type { InventoryEvent };
