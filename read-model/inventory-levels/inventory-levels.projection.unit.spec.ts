import { eventLog, givenEvents, RECORDED_AT } from '../../test/support/projection-spec';
import { INVENTORY, inventoryLevelsProjection, InventoryView } from './inventory-levels.projection';

const projection = inventoryLevelsProjection({ lowStockThreshold: 5 });
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const level = (view: Partial<InventoryView>): InventoryView => ({
  sku: 'MUG',
  onHand: 0,
  reserved: 0,
  available: 0,
  lowStock: true,
  movements: 0,
  version: 0,
  updatedAt: RECORDED_AT,
  ...view,
});

/** A fresh log whose first event registers the mug. */
function mugRegistered() {
  const record = eventLog();
  const registered = record(
    { type: 'ProductRegistered', data: { sku: 'MUG', name: 'Mug', description: '', price: eur(900) } },
    { at: '2026-03-01T08:00:00.000Z' },
  );
  return { record, registered };
}

describe('inventory levels projection', () => {
  it('lists a registered product with no stock, low, at version 0', () => {
    const { registered } = mugRegistered();
    givenEvents(projection, [registered]).thenDocument(INVENTORY, 'MUG', level({ updatedAt: '2026-03-01T08:00:00.000Z' }));
  });

  it('takes the levels every stock event carries, at the stock version, counting movements', () => {
    const { record, registered } = mugRegistered();
    const received = record({ type: 'StockReceived', data: { sku: 'MUG', onHand: 20, reserved: 0, quantity: 20 } });
    const reserved = record({ type: 'StockReserved', data: { sku: 'MUG', onHand: 20, reserved: 4, orderId: 'o1', quantity: 4 } });
    const released = record({ type: 'StockReleased', data: { sku: 'MUG', onHand: 20, reserved: 1, orderId: 'o1', quantity: 3 } });
    const committed = record(
      { type: 'StockCommitted', data: { sku: 'MUG', onHand: 19, reserved: 0, orderId: 'o1', quantity: 1 } },
      { at: '2026-03-05T17:45:00.000Z' },
    );
    const adjusted = record(
      { type: 'StockAdjusted', data: { sku: 'MUG', onHand: 17, reserved: 0, quantity: -2, reason: 'broken' } },
      { at: '2026-03-06T09:00:00.000Z' },
    );
    givenEvents(projection, [registered, received, reserved])
      .thenDocument(INVENTORY, 'MUG', level({ onHand: 20, reserved: 4, available: 16, lowStock: false, movements: 2, version: 2 }))
      .andLater([released, committed])
      .thenDocument(
        INVENTORY,
        'MUG',
        level({ onHand: 19, available: 19, lowStock: false, movements: 4, version: 4, updatedAt: '2026-03-05T17:45:00.000Z' }),
      )
      .andLater([adjusted])
      .thenDocument(
        INVENTORY,
        'MUG',
        level({ onHand: 17, available: 17, lowStock: false, movements: 5, version: 5, updatedAt: '2026-03-06T09:00:00.000Z' }),
      );
  });

  it('marks stock low when what is available is at or below the threshold', () => {
    const { record, registered } = mugRegistered();
    const received = record({ type: 'StockReceived', data: { sku: 'MUG', onHand: 6, reserved: 0, quantity: 6 } });
    const reserved = record({ type: 'StockReserved', data: { sku: 'MUG', onHand: 6, reserved: 1, orderId: 'o1', quantity: 1 } });
    givenEvents(projection, [registered, received])
      .thenDocument(INVENTORY, 'MUG', level({ onHand: 6, available: 6, lowStock: false, movements: 1, version: 1 }))
      .andLater([reserved])
      .thenDocument(INVENTORY, 'MUG', level({ onHand: 6, reserved: 1, available: 5, lowStock: true, movements: 2, version: 2 }));
  });

  it('counts a redelivered stock event once', () => {
    const { record, registered } = mugRegistered();
    const received = record({ type: 'StockReceived', data: { sku: 'MUG', onHand: 8, reserved: 0, quantity: 8 } });
    const expected = level({ onHand: 8, available: 8, lowStock: false, movements: 1, version: 1 });
    givenEvents(projection, [registered, received, received])
      .thenDocument(INVENTORY, 'MUG', expected)
      .andLater([received])
      .thenDocument(INVENTORY, 'MUG', expected);
  });

  it('keeps the levels when a product is registered after its stock moved', () => {
    const record = eventLog();
    const received = record({ type: 'StockReceived', data: { sku: 'CAP', onHand: 3, reserved: 0, quantity: 3 } });
    const registered = record({ type: 'ProductRegistered', data: { sku: 'CAP', name: 'Cap', description: '', price: eur(1) } });
    givenEvents(projection, [received, registered]).thenDocuments(INVENTORY, {
      CAP: level({ sku: 'CAP', onHand: 3, available: 3, movements: 1, version: 1 }),
    });
  });
});
