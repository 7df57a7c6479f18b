import type { RecordedCatalogEvent, RecordedInventoryEvent } from '../../src/contracts';
import type { Projection, ProjectionHandler } from '../projector/projection';

export const INVENTORY = 'inventory';

export interface InventoryView {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
  lowStock: boolean;
  /** Stock events recorded for the sku: a counter, so it shows any event applied twice. */
  movements: number;
  /** The stock aggregate's version (the ETag of GET /inventory/{sku}); 0 before any stock event. */
  version: number;
  updatedAt: string;
}

/** Inventory levels per sku, from registration on; low stock at or below the threshold. */
export function inventoryLevelsProjection(options: { lowStockThreshold: number }): Projection {
  const levels = (sku: string, onHand: number, reserved: number, movements: number, version: number, at: Date): InventoryView => ({
    sku,
    onHand,
    reserved,
    available: onHand - reserved,
    lowStock: onHand - reserved <= options.lowStockThreshold,
    movements,
    version,
    updatedAt: new Date(at).toISOString(),
  });

  const registered: ProjectionHandler<RecordedCatalogEvent, InventoryView> = {
    collection: INVENTORY,
    documentId: (event) => event.data.sku,
    apply: (doc, event) => doc ?? levels(event.data.sku, 0, 0, 0, 0, event.recordedAt),
  };
  const moved: ProjectionHandler<RecordedInventoryEvent, InventoryView> = {
    collection: INVENTORY,
    documentId: (event) => event.data.sku,
    apply: (doc, event) =>
      levels(
        event.data.sku,
        event.data.onHand,
        event.data.reserved,
        (doc?.movements ?? 0) + 1,
        event.streamVersion,
        event.recordedAt,
      ),
  };

  return {
    name: 'inventory-levels',
    views: [{ collection: INVENTORY, fields: { lowStock: 'boolean', available: 'number', sku: 'string' } }],
    handlers: {
      ProductRegistered: [registered],
      StockReceived: [moved],
      StockAdjusted: [moved],
      StockReserved: [moved],
      StockReleased: [moved],
      StockCommitted: [moved],
    },
  };
}
