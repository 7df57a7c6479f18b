import type { CatalogEvent, Money } from '../../src/contracts';

export type ProductStatus = 'unregistered' | 'active' | 'discontinued';

export interface Product {
  status: ProductStatus;
  sku: string;
  name: string;
  description: string;
  price: Money;
}

export type ProductCommand =
  | { type: 'RegisterProduct'; sku: string; name: string; description: string; price: Money }
  | { type: 'UpdateProductDetails'; sku: string; name?: string; description?: string }
  | { type: 'ChangeProductPrice'; sku: string; price: Money }
  | { type: 'DiscontinueProduct'; sku: string };

export type { CatalogEvent };
