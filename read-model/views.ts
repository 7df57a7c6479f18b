import { customerOrdersView } from './customer-orders/customer-orders.view';
import { dailySalesView } from './daily-sales/daily-sales.view';
import { inventoryLevelsView } from './inventory-levels/inventory-levels.view';
import { orderSummaryView } from './order-summary/order-summary.view';
import { productCatalogView } from './product-catalog/product-catalog.view';
import type { ReadView } from './read-view';

/** Every view of the read side, in the order projections are listed. A new view adds itself here. */
export const readViews: ReadView[] = [productCatalogView, inventoryLevelsView, orderSummaryView, customerOrdersView, dailySalesView];
