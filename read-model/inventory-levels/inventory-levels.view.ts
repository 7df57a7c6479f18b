import type { ReadView } from '../read-view';
import { InventoryLevelsController } from './inventory-levels.http';
import { inventoryLevelsProjection } from './inventory-levels.projection';

/** Inventory levels per sku, with the low-stock flag. */
export const inventoryLevelsView: ReadView = {
  projection: (options) => inventoryLevelsProjection(options),
  controllers: [InventoryLevelsController],
};
