import { givenWhenThen } from '../../test/support/given-when-then';
import { fold } from '../shared/decider';
import { stockDecider } from './stock.decider';
import type { InventoryEvent } from './stock';

const given = givenWhenThen(stockDecider);
const received = (quantity: number, onHand = quantity): InventoryEvent => ({
  type: 'StockReceived',
  data: { sku: 'MUG', onHand, reserved: 0, quantity },
});
const reserve = (orderId: string, quantity: number, productDiscontinued = false) =>
  ({ type: 'ReserveStock', sku: 'MUG', orderId, quantity, productDiscontinued }) as const;
const reserved = (orderId: string, quantity: number, onHand: number, total: number): InventoryEvent => ({
  type: 'StockReserved',
  data: { sku: 'MUG', onHand, reserved: total, orderId, quantity },
});

describe('stock decider', () => {
  it('receives stock and reports the levels after it', () => {
    given([received(5)])
      .when({ type: 'ReceiveStock', sku: 'MUG', quantity: 3 })
      .then([{ type: 'StockReceived', data: { sku: 'MUG', onHand: 8, reserved: 0, quantity: 3 } }]);
  });

  it('adjusts by a signed quantity but never below what is reserved or zero', () => {
    given([received(5)])
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'broken' })
      .then([{ type: 'StockAdjusted', data: { sku: 'MUG', onHand: 3, reserved: 0, quantity: -2, reason: 'broken' } }]);
    given([received(5)])
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -6, reason: 'x' })
      .thenThrows(expect.objectContaining({ reason: 'negative-stock' }));
    given([received(5), reserved('o1', 4, 5, 4)])
      .when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'x' })
      .thenThrows(expect.objectContaining({ reason: 'stock-reserved' }));
  });

  it('reserves only what is available', () => {
    given([received(2)]).when(reserve('o1', 2)).then([reserved('o1', 2, 2, 2)]);
    given([received(2)])
      .when(reserve('o1', 3))
      .thenThrows(
        expect.objectContaining({ reason: 'insufficient-stock', details: { sku: 'MUG', available: 2, requested: 3 } }),
      );
  });

  it('treats a redelivered reservation as done, a different one for the same order as a conflict', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    given(history).when(reserve('o1', 2)).then([]);
    given(history).when(reserve('o1', 3)).thenThrows(expect.objectContaining({ reason: 'reservation-exists' }));
  });

  it('takes no new reservation for a discontinued product', () => {
    given([received(5)]).when(reserve('o1', 1, true)).thenThrows(expect.objectContaining({ reason: 'product-discontinued' }));
  });

  it('releases a reservation at most once and ignores unknown ones', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    const released: InventoryEvent = {
      type: 'StockReleased',
      data: { sku: 'MUG', onHand: 5, reserved: 0, orderId: 'o1', quantity: 2 },
    };
    given(history).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' }).then([released]);
    given([...history, released]).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' }).then([]);
    given(history).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'other' }).then([]);
    given([...history, released])
      .when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' })
      .thenThrows(expect.objectContaining({ reason: 'no-reservation' }));
  });

  it('commits a reservation at most once, taking it off hand; a release after it changes nothing', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    const committed: InventoryEvent = {
      type: 'StockCommitted',
      data: { sku: 'MUG', onHand: 3, reserved: 0, orderId: 'o1', quantity: 2 },
    };
    given(history).when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' }).then([committed]);
    given([...history, committed])
      .when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' })
      .thenThrows(expect.objectContaining({ reason: 'no-reservation' }));
    given([...history, committed]).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' }).then([]);
  });

  it('keeps only the open reservations in its state', () => {
    const cycles = Array.from({ length: 200 }, (_, i): InventoryEvent[] => [
      reserved(`o${i}`, 1, 5, 1),
      { type: 'StockReleased', data: { sku: 'MUG', onHand: 5, reserved: 0, orderId: `o${i}`, quantity: 1 } },
    ]).flat();
    const state = fold(stockDecider, [received(5), ...cycles, reserved('open', 2, 5, 2)]);
    expect(state.reservations).toEqual({ open: { quantity: 2 } });
  });
});
