import type { InventoryEvent } from '../../src/contracts';

export interface Stock {
  sku: string;
  onHand: number;
  reserved: number;
  /**
   * The open reservations, by order id; a release or commit ends one and removes it, so the
   * state stays as small as what is reserved now (why each still ends at most once: README).
   */
  reservations: Record<string, { quantity: number }>;
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
