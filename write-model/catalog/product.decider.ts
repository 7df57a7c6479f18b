import { InvariantViolation, NotFoundError } from '../shared/domain-errors';
import type { Decider } from '../shared/decider';
import type { CatalogEvent, Product, ProductCommand } from './product';

export const productDecider: Decider<Product, ProductCommand, CatalogEvent> = {
  initialState: () => ({
    status: 'unregistered',
    sku: '',
    name: '',
    description: '',
    price: { amount: 0, currency: 'EUR' },
  }),
  snapshot: { version: 1 },

  decide(command, state) {
    if (command.type === 'RegisterProduct') {
      if (state.status !== 'unregistered') {
        throw new InvariantViolation(`product ${command.sku} is already registered`, 'product-exists', {
          sku: command.sku,
        });
      }
      const { sku, name, description, price } = command;
      return [{ type: 'ProductRegistered', data: { sku, name, description, price } }];
    }
    if (state.status === 'unregistered') {
      throw new NotFoundError(`product ${command.sku} does not exist`, 'unknown-product', { sku: command.sku });
    }
    switch (command.type) {
      case 'UpdateProductDetails': {
        const name = command.name ?? state.name;
        const description = command.description ?? state.description;
        if (name === state.name && description === state.description) return [];
        return [{ type: 'ProductDetailsUpdated', data: { sku: state.sku, name, description } }];
      }
      case 'ChangeProductPrice': {
        assertActive(state);
        if (command.price.currency !== state.price.currency) {
          throw new InvariantViolation(
            `product ${state.sku} is priced in ${state.price.currency}, not ${command.price.currency}`,
            'currency-mismatch',
            { sku: state.sku, currency: state.price.currency },
          );
        }
        if (command.price.amount === state.price.amount) return [];
        return [
          { type: 'ProductPriceChanged', data: { sku: state.sku, price: command.price, previousPrice: state.price } },
        ];
      }
      case 'DiscontinueProduct':
        assertActive(state);
        return [{ type: 'ProductDiscontinued', data: { sku: state.sku } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ProductRegistered':
        return { ...event.data, status: 'active' };
      case 'ProductDetailsUpdated':
        return { ...state, name: event.data.name, description: event.data.description };
      case 'ProductPriceChanged':
        return { ...state, price: event.data.price };
      case 'ProductDiscontinued':
        return { ...state, status: 'discontinued' };
    }
  },
};

function assertActive(state: Product): void {
  if (state.status === 'discontinued') {
    throw new InvariantViolation(`product ${state.sku} is discontinued`, 'product-discontinued', { sku: state.sku });
  }
}
