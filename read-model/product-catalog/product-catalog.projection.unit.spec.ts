import { eventLog, givenEvents, RECORDED_AT } from '../../test/support/projection-spec';
import { PRODUCTS, productCatalogProjection, ProductView } from './product-catalog.projection';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const levels = { sku: 'MUG', onHand: 10, reserved: 0 };

/** A fresh log whose first event registers the mug. */
function mugRegistered() {
  const record = eventLog();
  const registered = record({
    type: 'ProductRegistered',
    data: { sku: 'MUG', name: 'White Mug', description: 'Stoneware', price: eur(900) },
  });
  return { record, registered };
}

const mug: ProductView = {
  sku: 'MUG',
  name: 'White Mug',
  sortName: 'white mug',
  description: 'Stoneware',
  price: eur(900),
  status: 'active',
  available: 0,
  version: 1,
  updatedAt: RECORDED_AT,
};

describe('product catalog projection', () => {
  it('lists a registered product as active, with nothing available yet', () => {
    const { registered } = mugRegistered();
    givenEvents(productCatalogProjection, [registered]).thenDocument(PRODUCTS, 'MUG', mug);
  });

  it('follows details, price and discontinuation, each at the product version it came with', () => {
    const { record, registered } = mugRegistered();
    const details = record(
      { type: 'ProductDetailsUpdated', data: { sku: 'MUG', name: 'Big Mug', description: 'Larger' } },
      { at: '2026-03-02T11:00:00.000Z' },
    );
    const price = record({ type: 'ProductPriceChanged', data: { sku: 'MUG', price: eur(1200), previousPrice: eur(900) } });
    const discontinued = record({ type: 'ProductDiscontinued', data: { sku: 'MUG' } }, { at: '2026-03-03T08:30:00.000Z' });
    givenEvents(productCatalogProjection, [registered, details])
      .thenDocument(PRODUCTS, 'MUG', {
        ...mug,
        name: 'Big Mug',
        sortName: 'big mug',
        description: 'Larger',
        version: 2,
        updatedAt: '2026-03-02T11:00:00.000Z',
      })
      .andLater([price, discontinued])
      .thenDocument(PRODUCTS, 'MUG', {
        ...mug,
        name: 'Big Mug',
        sortName: 'big mug',
        description: 'Larger',
        price: eur(1200),
        status: 'discontinued',
        version: 4,
        updatedAt: '2026-03-03T08:30:00.000Z',
      });
  });

  it('shows what is available (on hand less reserved) from every stock event, leaving version and time alone', () => {
    const { record, registered } = mugRegistered();
    const stock = (event: Parameters<typeof record>[0]) => [record(event, { at: '2026-03-04T00:00:00.000Z' })];
    givenEvents(productCatalogProjection, [registered, ...stock({ type: 'StockReceived', data: { ...levels, quantity: 10 } })])
      .thenDocument(PRODUCTS, 'MUG', { ...mug, available: 10 })
      .andLater(stock({ type: 'StockReserved', data: { ...levels, reserved: 3, orderId: 'o1', quantity: 3 } }))
      .thenDocument(PRODUCTS, 'MUG', { ...mug, available: 7 })
      .andLater(stock({ type: 'StockAdjusted', data: { ...levels, onHand: 9, reserved: 3, quantity: -1, reason: 'chipped' } }))
      .thenDocument(PRODUCTS, 'MUG', { ...mug, available: 6 })
      .andLater(stock({ type: 'StockReleased', data: { ...levels, onHand: 9, reserved: 1, orderId: 'o1', quantity: 2 } }))
      .thenDocument(PRODUCTS, 'MUG', { ...mug, available: 8 })
      .andLater(stock({ type: 'StockCommitted', data: { ...levels, onHand: 8, reserved: 0, orderId: 'o1', quantity: 1 } }))
      .thenDocument(PRODUCTS, 'MUG', { ...mug, available: 8 });
  });

  it('keeps availability that arrived before the registration', () => {
    const log = eventLog();
    const received = log({ type: 'StockReceived', data: { sku: 'CAP', onHand: 4, reserved: 0, quantity: 4 } });
    const cap = log({ type: 'ProductRegistered', data: { sku: 'CAP', name: 'Cap', description: 'Navy', price: eur(1500) } });
    givenEvents(productCatalogProjection, [received, cap]).thenDocument(PRODUCTS, 'CAP', {
      sku: 'CAP',
      name: 'Cap',
      sortName: 'cap',
      description: 'Navy',
      price: eur(1500),
      status: 'active',
      available: 4,
      version: 1,
      updatedAt: RECORDED_AT,
    });
  });

  it('keeps one document per sku and passes over order events', () => {
    const { record, registered } = mugRegistered();
    const tea = record({ type: 'ProductRegistered', data: { sku: 'TEA', name: 'tea', description: '', price: eur(450) } });
    const placed = record({
      type: 'OrderPlaced',
      data: { orderId: 'o1', customerId: 'c1', lines: [], total: eur(0), paymentToken: 'tok_approve' },
    });
    givenEvents(productCatalogProjection, [registered, tea, placed]).thenDocuments(PRODUCTS, {
      MUG: mug,
      TEA: { ...mug, sku: 'TEA', name: 'tea', sortName: 'tea', description: '', price: eur(450) },
    });
  });
});
