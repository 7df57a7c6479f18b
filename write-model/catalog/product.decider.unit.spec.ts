import { givenWhenThen } from '../../test/support/given-when-then';
import { productDecider } from './product.decider';
import type { CatalogEvent } from './product';

const given = givenWhenThen(productDecider);
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const registered: CatalogEvent = {
  type: 'ProductRegistered',
  data: { sku: 'MUG', name: 'Mug', description: 'White', price: eur(900) },
};
const discontinued: CatalogEvent = { type: 'ProductDiscontinued', data: { sku: 'MUG' } };

describe('product decider', () => {
  it('registers a new product', () => {
    given([])
      .when({ type: 'RegisterProduct', sku: 'MUG', name: 'Mug', description: 'White', price: eur(900) })
      .then([registered]);
  });

  it('refuses to register a sku twice', () => {
    given([registered])
      .when({ type: 'RegisterProduct', sku: 'MUG', name: 'X', description: '', price: eur(1) })
      .thenThrows(expect.objectContaining({ reason: 'product-exists', kind: 'conflict' }));
  });

  it('answers not-found for commands on an unknown sku', () => {
    given([]).when({ type: 'DiscontinueProduct', sku: 'NOPE' }).thenThrows(expect.objectContaining({ kind: 'not-found' }));
  });

  it('updates only the details given and emits nothing when nothing changes', () => {
    given([registered])
      .when({ type: 'UpdateProductDetails', sku: 'MUG', name: 'Big mug' })
      .then([{ type: 'ProductDetailsUpdated', data: { sku: 'MUG', name: 'Big mug', description: 'White' } }]);
    given([registered]).when({ type: 'UpdateProductDetails', sku: 'MUG', name: 'Mug' }).then([]);
  });

  it('changes the price, keeping the previous one, in the same currency only', () => {
    given([registered])
      .when({ type: 'ChangeProductPrice', sku: 'MUG', price: eur(1200) })
      .then([{ type: 'ProductPriceChanged', data: { sku: 'MUG', price: eur(1200), previousPrice: eur(900) } }]);
    given([registered])
      .when({ type: 'ChangeProductPrice', sku: 'MUG', price: { amount: 5, currency: 'USD' } })
      .thenThrows(expect.objectContaining({ reason: 'currency-mismatch' }));
  });

  it('discontinues once and then refuses price changes', () => {
    given([registered]).when({ type: 'DiscontinueProduct', sku: 'MUG' }).then([discontinued]);
    given([registered, discontinued])
      .when({ type: 'DiscontinueProduct', sku: 'MUG' })
      .thenThrows(expect.objectContaining({ reason: 'product-discontinued' }));
    given([registered, discontinued])
      .when({ type: 'ChangeProductPrice', sku: 'MUG', price: eur(1) })
      .thenThrows(expect.objectContaining({ reason: 'product-discontinued' }));
  });
});
