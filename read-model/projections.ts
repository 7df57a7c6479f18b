import { inventoryLevelsProjection } from './inventory-levels/inventory-levels.projection';
import { productCatalogProjection } from './product-catalog/product-catalog.projection';
import type { Projection } from './projector/projection';

/** Every projection the projector runs and the CLI can rebuild, by its fixed name. */
export function allProjections(options: { lowStockThreshold: number }): Projection[] {
  return [productCatalogProjection, inventoryLevelsProjection(options)];
}
