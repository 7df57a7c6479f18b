import { INVENTORY } from '../inventory-levels/inventory-levels.projection';
import { ORDERS, orderSummaryProjection } from '../order-summary/order-summary.projection';
import { PRODUCTS, productCatalogProjection } from '../product-catalog/product-catalog.projection';

/** The reads the cache serves: single documents at `<prefix><id>` (and the products' first page). */
export interface CachedView {
  projection: string;
  collection: string;
  /** The GET route of one document, up to its id. */
  prefix: string;
}

export const CACHED_VIEWS: CachedView[] = [
  { projection: productCatalogProjection.name, collection: PRODUCTS, prefix: '/products/' },
  { projection: 'inventory-levels', collection: INVENTORY, prefix: '/inventory/' },
  { projection: orderSummaryProjection.name, collection: ORDERS, prefix: '/orders/' },
];
