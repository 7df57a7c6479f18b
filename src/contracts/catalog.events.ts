import type { Money } from './money';
import type { RecordedEvent } from './envelope';

/** What a sku may look like, on both sides of the system. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const PRODUCT_STREAM = 'product';
export const productStreamId = (sku: string) => `product-${sku}`;

/** Current schema versions; older ones are upcast when read. */
export const catalogSchemaVersions = {
  ProductRegistered: 2,
  ProductDetailsUpdated: 1,
  ProductPriceChanged: 1,
  ProductDiscontinued: 1,
} as const;

export interface ProductRegistered {
  type: 'ProductRegistered';
  data: { sku: string; name: string; description: string; price: Money };
}
export interface ProductDetailsUpdated {
  type: 'ProductDetailsUpdated';
  data: { sku: string; name: string; description: string };
}
export interface ProductPriceChanged {
  type: 'ProductPriceChanged';
  data: { sku: string; price: Money; previousPrice: Money };
}
export interface ProductDiscontinued {
  type: 'ProductDiscontinued';
  data: { sku: string };
}

export type CatalogEvent = ProductRegistered | ProductDetailsUpdated | ProductPriceChanged | ProductDiscontinued;
export type RecordedCatalogEvent = RecordedEvent<CatalogEvent['type']> & CatalogEvent;
