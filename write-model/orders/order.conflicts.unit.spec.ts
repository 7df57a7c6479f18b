import { givenWhenThen } from '../../test/support/given-when-then';
import { PreconditionFailed } from '../shared/domain-errors';
import { orderConflicts } from './order.conflicts';
import { orderDecider } from './order.decider';
import type { OrderEvent } from './order';

const given = givenWhenThen(orderDecider, orderConflicts);
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o1',
    customerId: 'c1',
    lines: [{ sku: 'MUG', name: 'Mug', quantity: 1, unitPrice: eur(900), lineTotal: eur(900) }],
    total: eur(900),
    paymentToken: 'tok_approve',
  },
};
const stockReserved: OrderEvent = { type: 'OrderStockReserved', data: { orderId: 'o1' } };

describe('order conflict policies: a command sent with an outdated If-Match', () => {
  it('refuses a cancellation after any step since: the order is a chain of status transitions', () => {
    given([placed, stockReserved])
      .seenAt(1)
      .when({ type: 'CancelOrder', orderId: 'o1', reason: 'changed my mind', by: 'customer' })
      .thenThrows(PreconditionFailed, expect.objectContaining({ expectedVersion: 1, actualVersion: 2 }));
  });

  it('refuses shipping from an outdated version', () => {
    given([placed, stockReserved]).seenAt(1).when({ type: 'ShipOrder', orderId: 'o1' }).thenThrows(PreconditionFailed);
  });
});
