import { givenWhenThen } from '../shared/given-when-then';
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
    expect(given([received(5)]).when({ type: 'ReceiveStock', sku: 'MUG', quantity: 3 })()).toEqual([
      { type: 'StockReceived', data: { sku: 'MUG', onHand: 8, reserved: 0, quantity: 3 } },
    ]);
  });

  it('adjusts by a signed quantity but never below what is reserved or zero', () => {
    expect(given([received(5)]).when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'broken' })()).toEqual([
      { type: 'StockAdjusted', data: { sku: 'MUG', onHand: 3, reserved: 0, quantity: -2, reason: 'broken' } },
    ]);
    expect(given([received(5)]).when({ type: 'AdjustStock', sku: 'MUG', quantity: -6, reason: 'x' })).toThrow(
      expect.objectContaining({ reason: 'negative-stock' }),
    );
    expect(
      given([received(5), reserved('o1', 4, 5, 4)]).when({ type: 'AdjustStock', sku: 'MUG', quantity: -2, reason: 'x' }),
    ).toThrow(expect.objectContaining({ reason: 'stock-reserved' }));
  });

  it('reserves only what is available', () => {
    expect(given([received(2)]).when(reserve('o1', 2))()).toEqual([reserved('o1', 2, 2, 2)]);
    expect(given([received(2)]).when(reserve('o1', 3))).toThrow(
      expect.objectContaining({ reason: 'insufficient-stock', details: { sku: 'MUG', available: 2, requested: 3 } }),
    );
  });

  it('treats a redelivered reservation as done, a different one for the same order as a conflict', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    expect(given(history).when(reserve('o1', 2))()).toEqual([]);
    expect(given(history).when(reserve('o1', 3))).toThrow(expect.objectContaining({ reason: 'reservation-exists' }));
  });

  it('takes no new reservation for a discontinued product', () => {
    expect(given([received(5)]).when(reserve('o1', 1, true))).toThrow(
      expect.objectContaining({ reason: 'product-discontinued' }),
    );
  });

  it('releases a reservation at most once and ignores unknown ones', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    const released: InventoryEvent = {
      type: 'StockReleased',
      data: { sku: 'MUG', onHand: 5, reserved: 0, orderId: 'o1', quantity: 2 },
    };
    expect(given(history).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' })()).toEqual([released]);
    expect(given([...history, released]).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' })()).toEqual([]);
    expect(given(history).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'other' })()).toEqual([]);
    expect(given([...history, released]).when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' })).toThrow(
      expect.objectContaining({ reason: 'no-reservation' }),
    );
  });

  it('commits a reservation at most once, taking it off hand, and never releases it after', () => {
    const history = [received(5), reserved('o1', 2, 5, 2)];
    const committed: InventoryEvent = {
      type: 'StockCommitted',
      data: { sku: 'MUG', onHand: 3, reserved: 0, orderId: 'o1', quantity: 2 },
    };
    expect(given(history).when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' })()).toEqual([committed]);
    expect(given([...history, committed]).when({ type: 'CommitStock', sku: 'MUG', orderId: 'o1' })()).toEqual([]);
    expect(given([...history, committed]).when({ type: 'ReleaseStock', sku: 'MUG', orderId: 'o1' })).toThrow(
      expect.objectContaining({ reason: 'reservation-committed' }),
    );
  });
});
