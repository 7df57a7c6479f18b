import { givenWhenThen } from '../../test/support/given-when-then';
import { PreconditionFailed } from '../shared/domain-errors';
import { stockConflicts } from './stock.conflicts';
import { stockDecider } from './stock.decider';
import type { InventoryEvent } from './stock';

const given = givenWhenThen(stockDecider, stockConflicts);
const received = (quantity: number, onHand: number): InventoryEvent => ({
  type: 'StockReceived',
  data: { sku: 'MUG', onHand, reserved: 0, quantity },
});
const adjusted = (quantity: number, onHand: number, reserved = 0): InventoryEvent => ({
  type: 'StockAdjusted',
  data: { sku: 'MUG', onHand, reserved, quantity, reason: 'count' },
});
const reserved = (quantity: number, onHand: number): InventoryEvent => ({
  type: 'StockReserved',
  data: { sku: 'MUG', onHand, reserved: quantity, orderId: 'o1', quantity },
});

describe('stock conflict policies: a command sent with an outdated If-Match', () => {
  it('rebases a receipt onto the current levels', () => {
    given([received(5, 5), received(3, 8)])
      .seenAt(1)
      .when({ type: 'ReceiveStock', sku: 'MUG', quantity: 2 })
      .then([received(2, 10)], 'rebased');
  });

  it('rebases a signed adjustment onto the current levels while the stock allows it', () => {
    given([received(5, 5), adjusted(-2, 3)])
      .seenAt(1)
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -3, reason: 'count' })
      .then([adjusted(-3, 0)], 'rebased');
  });

  it('still refuses an adjustment that would go below zero on the current levels', () => {
    given([received(5, 5), adjusted(-4, 1)])
      .seenAt(1)
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'count' })
      .thenThrows(expect.objectContaining({ reason: 'negative-stock', details: expect.objectContaining({ onHand: 1 }) }));
  });

  it('still refuses an adjustment below what was reserved since', () => {
    given([received(5, 5), reserved(4, 5)])
      .seenAt(1)
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'count' })
      .thenThrows(expect.objectContaining({ reason: 'stock-reserved' }));
  });

  it('keeps the reservation commands strict', () => {
    given([received(5, 5), received(1, 6)])
      .seenAt(1)
      .when({ type: 'ReserveStock', sku: 'MUG', orderId: 'o1', quantity: 1, productDiscontinued: false })
      .thenThrows(PreconditionFailed);
  });
});
