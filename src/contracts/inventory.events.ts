import type { RecordedEvent } from './envelope';

export const STOCK_STREAM = 'stock';
export const stockStreamId = (sku: string) => `stock-${sku}`;

export const inventorySchemaVersions = {
  StockReceived: 1,
  StockAdjusted: 1,
  StockReserved: 1,
  StockReleased: 1,
  StockCommitted: 1,
} as const;

/** Every stock event carries the levels after it, so views never recompute them. */
interface Levels {
  sku: string;
  onHand: number;
  reserved: number;
}

export interface StockReceived {
  type: 'StockReceived';
  data: Levels & { quantity: number };
}
export interface StockAdjusted {
  type: 'StockAdjusted';
  data: Levels & { quantity: number; reason: string };
}
export interface StockReserved {
  type: 'StockReserved';
  data: Levels & { orderId: string; quantity: number };
}
export interface StockReleased {
  type: 'StockReleased';
  data: Levels & { orderId: string; quantity: number };
}
export interface StockCommitted {
  type: 'StockCommitted';
  data: Levels & { orderId: string; quantity: number };
}

export type InventoryEvent = StockReceived | StockAdjusted | StockReserved | StockReleased | StockCommitted;
export type RecordedInventoryEvent = RecordedEvent<InventoryEvent['type']> & InventoryEvent;
