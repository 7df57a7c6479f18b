import { customerOrdersProjection } from './customer-orders/customer-orders.projection';
import { dailySalesProjection } from './daily-sales/daily-sales.projection';
import { inventoryLevelsProjection } from './inventory-levels/inventory-levels.projection';
import { orderSummaryProjection } from './order-summary/order-summary.projection';
import { productCatalogProjection } from './product-catalog/product-catalog.projection';
import type { Projection } from './projector/projection';

/** Every projection the projector runs and the CLI can rebuild, by its fixed name. */
export function allProjections(options: { lowStockThreshold: number }): Projection[] {
  return [
    productCatalogProjection,
    inventoryLevelsProjection(options),
    orderSummaryProjection,
    customerOrdersProjection,
    dailySalesProjection,
  ];
}
