import { ConflictPolicies, ConflictPolicy, fieldMerge, strict } from '../shared/conflict-policy';
import { InvariantViolation } from '../shared/domain-errors';
import { productDecider } from './product.decider';
import type { CatalogEvent, Product, ProductCommand } from './product';

type Policy<T extends ProductCommand['type']> = ConflictPolicy<Product, Extract<ProductCommand, { type: T }>, CatalogEvent>;

/** If-Match "0" says the client never saw the product: there is nothing to merge its command onto (412). */
function seenProduct<T extends ProductCommand['type']>(policy: Policy<T>): Policy<T> {
  return { ...policy, resolve: (command, history) => (history.seenVersion === 0 ? { outcome: 'conflict' } : policy.resolve(command, history)) };
}

/** Discontinuation wins over concurrent detail edits: an edit sent from before it is refused, whatever its fields. */
function discontinuationWins(policy: Policy<'UpdateProductDetails'>): Policy<'UpdateProductDetails'> {
  return {
    ...policy,
    rule:
      'discontinuation wins: an edit sent with a version from before the product was discontinued is refused ' +
      '(409 `product-discontinued`, naming the version and actor that discontinued it)',
    resolve(command, history) {
      const discontinued = history.since.find(({ event }) => event.type === 'ProductDiscontinued');
      if (!discontinued) return policy.resolve(command, history);
      const actor = discontinued.actor ? ` by ${discontinued.actor}` : '';
      return {
        outcome: 'conflict',
        error: new InvariantViolation(
          `product ${command.sku} was discontinued in version ${discontinued.version}${actor} after version ${history.seenVersion}; ` +
            'discontinuation wins over detail edits',
          'product-discontinued',
          {
            sku: command.sku,
            expectedVersion: history.seenVersion,
            currentVersion: history.currentVersion,
            discontinuedInVersion: discontinued.version,
            ...(discontinued.actor && { discontinuedBy: discontinued.actor }),
          },
        ),
      };
    },
  };
}

/**
 * How each catalog command sent with an outdated If-Match is resolved. Money is strict; detail
 * edits merge by field; a discontinuation applies over whatever changed since (it touches no
 * field anyone else edits) and is nothing to do when the product was discontinued meanwhile.
 */
export const productConflicts: ConflictPolicies<Product, ProductCommand, CatalogEvent> = {
  RegisterProduct: strict(),
  UpdateProductDetails: seenProduct(
    discontinuationWins(
      fieldMerge({
        fields: ['name', 'description'],
        changes: ({ name, description }) => ({ name, description }),
        evolve: (state: Product, event: CatalogEvent) => productDecider.evolve(state, event),
        identity: ({ sku }) => ({ sku }),
      }),
    ),
  ),
  ChangeProductPrice: strict(),
  DiscontinueProduct: seenProduct({
    ...fieldMerge<Product, Extract<ProductCommand, { type: 'DiscontinueProduct' }>, CatalogEvent, 'status'>({
      fields: ['status'],
      changes: () => ({ status: 'discontinued' }),
      evolve: (state, event) => productDecider.evolve(state, event),
      identity: ({ sku }) => ({ sku }),
    }),
    rule: 'discontinuation wins: it applies over detail edits and price changes made since, and is nothing to do when the product was discontinued since',
  }),
};
