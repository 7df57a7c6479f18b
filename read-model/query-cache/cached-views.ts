import { SKU_PATTERN } from '../../src/contracts';
import { INVENTORY } from '../inventory-levels/inventory-levels.projection';
import { loadInventoryLevel } from '../inventory-levels/inventory-levels.http';
import { ORDERS, orderSummaryProjection } from '../order-summary/order-summary.projection';
import { loadOrderSummary } from '../order-summary/order-summary.http';
import { PRODUCTS, productCatalogProjection } from '../product-catalog/product-catalog.projection';
import { loadProduct } from '../product-catalog/product-catalog.http';
import type { ViewStore } from '../view-store/view-store';
import type { CachedAnswer } from './query-cache';

/** The reads the cache serves: single documents at `<prefix><id>` (and the products' first page). */
export interface CachedView {
  projection: string;
  collection: string;
  /** Readable without a token (the fast path serves only these). */
  public: boolean;
  /** The GET route of one document, up to its id. */
  prefix: string;
  /** The Nest route's pattern, so metrics label a fast answer as the route would. */
  route: string;
  /** Ids the route accepts (anything else is the route's 400, answered by Nest). */
  valid(id: string): boolean;
  /** The document as the route answers it: the same loader the Nest route uses. */
  load(store: ViewStore, id: string): Promise<{ applied: string; answer: CachedAnswer } | null>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const CACHED_VIEWS: CachedView[] = [
  {
    projection: productCatalogProjection.name,
    collection: PRODUCTS,
    public: true,
    prefix: '/products/',
    route: '/products/:sku',
    valid: (id) => SKU_PATTERN.test(id),
    load: loadProduct,
  },
  {
    projection: 'inventory-levels',
    collection: INVENTORY,
    public: true,
    prefix: '/inventory/',
    route: '/inventory/:sku',
    valid: (id) => SKU_PATTERN.test(id),
    load: loadInventoryLevel,
  },
  {
    projection: orderSummaryProjection.name,
    collection: ORDERS,
    public: false,
    prefix: '/orders/',
    route: '/orders/:id',
    valid: (id) => UUID.test(id),
    load: loadOrderSummary,
  },
];
