import { by, givenWhenThen } from '../../test/support/given-when-then';
import { EditConflict } from '../shared/conflict-policy';
import { PreconditionFailed } from '../shared/domain-errors';
import { productConflicts } from './product.conflicts';
import { productDecider } from './product.decider';
import type { CatalogEvent } from './product';

const given = givenWhenThen(productDecider, productConflicts);
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const registered: CatalogEvent = {
  type: 'ProductRegistered',
  data: { sku: 'MUG', name: 'Mug', description: 'White', price: eur(900) },
};
const details = (name: string, description: string): CatalogEvent => ({
  type: 'ProductDetailsUpdated',
  data: { sku: 'MUG', name, description },
});
const repriced: CatalogEvent = { type: 'ProductPriceChanged', data: { sku: 'MUG', price: eur(1200), previousPrice: eur(900) } };
const discontinued: CatalogEvent = { type: 'ProductDiscontinued', data: { sku: 'MUG' } };
const edit = (fields: { name?: string; description?: string }) => ({ type: 'UpdateProductDetails', sku: 'MUG', ...fields }) as const;

describe('product conflict policies: a command sent with an outdated If-Match', () => {
  describe('detail edits merge by field', () => {
    it('applies an edit of fields nobody changed since, on top of the changes since', () => {
      given([registered, by('alice', details('Big mug', 'White')), by('carol', repriced)])
        .seenAt(1)
        .when(edit({ description: 'Blue' }))
        .then([details('Big mug', 'Blue')], 'merged');
    });

    it('does nothing when the overlapping fields already hold the values asked for', () => {
      given([registered, by('alice', details('Big mug', 'White'))]).seenAt(1).when(edit({ name: 'Big mug' })).then([], 'merged');
    });

    it('refuses an overlap with other values, naming each field, both values, the version and the actor', () => {
      given([registered, by('alice', details('Big mug', 'White')), by('bob', details('Big mug', 'Red'))])
        .seenAt(1)
        .when(edit({ name: 'Tall mug', description: 'Green' }))
        .thenThrows(
          EditConflict,
          expect.objectContaining({
            kind: 'conflict',
            reason: 'edit-conflict',
            details: {
              sku: 'MUG',
              expectedVersion: 1,
              currentVersion: 3,
              conflicts: [
                { field: 'name', requested: 'Tall mug', current: 'Big mug', changedInVersion: 2, changedBy: 'alice' },
                { field: 'description', requested: 'Green', current: 'Red', changedInVersion: 3, changedBy: 'bob' },
              ],
            },
          }),
        );
    });

    it('lists only the fields that differ when an edit overlaps in part', () => {
      given([registered, by('alice', details('Big mug', 'Red'))])
        .seenAt(1)
        .when(edit({ name: 'Big mug', description: 'Green' }))
        .thenThrows(
          expect.objectContaining({
            details: expect.objectContaining({
              conflicts: [{ field: 'description', requested: 'Green', current: 'Red', changedInVersion: 2, changedBy: 'alice' }],
            }),
          }),
        );
    });

    it('loses to a discontinuation made since, whatever the fields', () => {
      given([registered, by('dana', discontinued)])
        .seenAt(1)
        .when(edit({ description: 'Blue' }))
        .thenThrows(
          expect.objectContaining({
            reason: 'product-discontinued',
            details: expect.objectContaining({ sku: 'MUG', discontinuedInVersion: 2, discontinuedBy: 'dana', expectedVersion: 1 }),
          }),
        );
    });

    it('still accepts an edit of a product that was discontinued before the version the client saw', () => {
      given([registered, discontinued, repriced]).seenAt(2).when(edit({ name: 'Old mug' })).then([details('Old mug', 'White')], 'merged');
    });

    it('refuses a client that never saw the product (If-Match "0")', () => {
      given([registered]).seenAt(0).when(edit({ name: 'Mine' })).thenThrows(PreconditionFailed);
    });
  });

  describe('money is strict', () => {
    it('refuses a price change after any change since, even one to another field', () => {
      given([registered, details('Big mug', 'White')])
        .seenAt(1)
        .when({ type: 'ChangeProductPrice', sku: 'MUG', price: eur(1500) })
        .thenThrows(PreconditionFailed, expect.objectContaining({ expectedVersion: 1, actualVersion: 2 }));
    });
  });

  describe('discontinuation wins', () => {
    it('applies over detail edits and price changes made since', () => {
      given([registered, details('Big mug', 'White'), repriced])
        .seenAt(1)
        .when({ type: 'DiscontinueProduct', sku: 'MUG' })
        .then([discontinued], 'merged');
    });

    it('is nothing to do when the product was discontinued since', () => {
      given([registered, discontinued]).seenAt(1).when({ type: 'DiscontinueProduct', sku: 'MUG' }).then([], 'merged');
    });
  });
});
