import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { EventStore } from '../event-store/event-store';
import { stockAggregate } from '../inventory/inventory.commands';
import { AggregateStore } from '../shared/aggregate-store';
import { productAggregate } from './catalog.commands';

/** The demo catalog `npm start` and `converge seed` load. */
export const DEMO_CATALOG = [
  { sku: 'MUG-001', name: 'Enamel mug', description: 'Holds 350 ml, survives campfires', price: 1299, stock: 40 },
  { sku: 'TEE-BLK-M', name: 'Black T-shirt, M', description: 'Organic cotton', price: 2499, stock: 25 },
  { sku: 'TEE-BLK-L', name: 'Black T-shirt, L', description: 'Organic cotton', price: 2499, stock: 3 },
  { sku: 'CAP-NAVY', name: 'Navy cap', description: 'One size', price: 1899, stock: 12 },
  { sku: 'BOTTLE-750', name: 'Steel bottle 750 ml', description: 'Keeps cold for 24 h', price: 3450, stock: 60 },
  { sku: 'SOCKS-3P', name: 'Wool socks, 3 pairs', description: 'Merino blend', price: 1599, stock: 0 },
  { sku: 'NOTE-A5', name: 'A5 notebook', description: 'Dotted, 120 pages', price: 899, stock: 150 },
  { sku: 'PEN-GEL', name: 'Gel pen', description: 'Black ink, 0.5 mm', price: 249, stock: 4 },
];

/** Registers the demo products that do not exist yet, with their stock; running it again adds nothing. */
export async function seedDemoCatalog(pool: Pool): Promise<{ registered: string[]; skipped: string[] }> {
  const aggregates = new AggregateStore(new EventStore(pool));
  const registered: string[] = [];
  const skipped: string[] = [];
  for (const item of DEMO_CATALOG) {
    const product = productAggregate(item.sku);
    const { state } = await aggregates.load(product.decider, product.streamId);
    if (state.status !== 'unregistered') {
      skipped.push(item.sku);
      continue;
    }
    const context = { correlationId: randomUUID(), actor: 'seed' };
    await aggregates.handle(
      product,
      {
        type: 'RegisterProduct',
        sku: item.sku,
        name: item.name,
        description: item.description,
        price: { amount: item.price, currency: 'EUR' },
      },
      context,
    );
    if (item.stock > 0) {
      await aggregates.handle(
        stockAggregate(item.sku),
        { type: 'ReceiveStock', sku: item.sku, quantity: item.stock },
        context,
      );
    }
    registered.push(item.sku);
  }
  return { registered, skipped };
}
