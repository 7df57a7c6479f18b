import type { ReadView } from '../read-view';
import { ProductCatalogController } from './product-catalog.http';
import { productCatalogProjection } from './product-catalog.projection';

/** The product catalog with live availability. */
export const productCatalogView: ReadView = {
  projection: () => productCatalogProjection,
  controllers: [ProductCatalogController],
};
