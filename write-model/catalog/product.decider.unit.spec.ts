import { givenWhenThen } from '../shared/given-when-then';
import { productDecider } from './product.decider';
import type { CatalogEvent } from './product';

const given = givenWhenThen(productDecider);
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const registered: CatalogEvent = {
  type: 'ProductRegistered',
  data: { sku: 'MUG', name: 'Mug', description: 'White', price: eur(900) },
};

describe('product decider', () => {
  it('registers a new product', () => {
    expect(given([]).when({ type: 'RegisterProduct', sku: 'MUG', name: 'Mug', description: 'White', price: eur(900) })()).toEqual([
      registered,
    ]);
  });

  it('refuses to register a sku twice', () => {
    expect(given([registered]).when({ type: 'RegisterProduct', sku: 'MUG', name: 'X', description: '', price: eur(1) })).toThrow(
      expect.objectContaining({ reason: 'product-exists', kind: 'conflict' }),
    );
  });

  it('answers not-found for commands on an unknown sku', () => {
    expect(given([]).when({ type: 'DiscontinueProduct', sku: 'NOPE' })).toThrow(
      expect.objectContaining({ kind: 'not-found' }),
    );
  });

  it('updates only the details given and emits nothing when nothing changes', () => {
    expect(given([registered]).when({ type: 'UpdateProductDetails', sku: 'MUG', name: 'Big mug' })()).toEqual([
      { type: 'ProductDetailsUpdated', data: { sku: 'MUG', name: 'Big mug', description: 'White' } },
    ]);
    expect(given([registered]).when({ type: 'UpdateProductDetails', sku: 'MUG', name: 'Mug' })()).toEqual([]);
  });

  it('changes the price, keeping the previous one, in the same currency only', () => {
    expect(given([registered]).when({ type: 'ChangeProductPrice', sku: 'MUG', price: eur(1200) })()).toEqual([
      { type: 'ProductPriceChanged', data: { sku: 'MUG', price: eur(1200), previousPrice: eur(900) } },
    ]);
    expect(
      given([registered]).when({ type: 'ChangeProductPrice', sku: 'MUG', price: { amount: 5, currency: 'USD' } }),
    ).toThrow(expect.objectContaining({ reason: 'currency-mismatch' }));
  });

  it('discontinues once and then refuses price changes', () => {
    const discontinued: CatalogEvent = { type: 'ProductDiscontinued', data: { sku: 'MUG' } };
    expect(given([registered]).when({ type: 'DiscontinueProduct', sku: 'MUG' })()).toEqual([discontinued]);
    expect(given([registered, discontinued]).when({ type: 'DiscontinueProduct', sku: 'MUG' })).toThrow(
      expect.objectContaining({ reason: 'product-discontinued' }),
    );
    expect(given([registered, discontinued]).when({ type: 'ChangeProductPrice', sku: 'MUG', price: eur(1) })).toThrow(
      expect.objectContaining({ reason: 'product-discontinued' }),
    );
  });
});
