import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import {
  NewEvent,
  PRODUCT_STREAM,
  productStreamId,
  RecordedEvent,
  STOCK_STREAM,
  stockStreamId,
} from '../src/contracts';
import { EventStore } from '../write-model/event-store/event-store';
import { LOG_ORIGIN } from '../write-model/relay/relay';
import { benchSku } from './system';

/**
 * Fills a write store with `count` catalog events the product-catalog projection handles:
 * each sku's ProductRegistered, then StockReceived events, ten per append, skus taking
 * turns so that a batch of a few hundred events touches dozens of documents.
 * Returns every event in the relay's order.
 */
export async function fillEventLog(pool: Pool, count: number, skus = 500): Promise<RecordedEvent[]> {
  const store = new EventStore(pool);
  const metadata = { correlationId: randomUUID(), actor: 'bench' };
  const perAppend = 10;
  const registrations = Math.min(skus, count);
  const registrationTasks: Task[] = [];
  const stockTasks: Task[] = [];
  for (let i = 0; i < registrations; i++) {
    const sku = benchSku(i);
    const registered: NewEvent = {
      type: 'ProductRegistered',
      data: {
        sku,
        name: `Bench product ${sku}`,
        description: 'A product of the benchmark catalog. '.repeat(6).trim(),
        price: { amount: 1299, currency: 'EUR' },
      },
    };
    registrationTasks.push({
      lane: i,
      run: () => store.appendToStream(productStreamId(sku), PRODUCT_STREAM, [registered], { expectedVersion: 0, metadata }),
    });
  }
  const versions = new Array<number>(registrations).fill(0);
  for (let left = count - registrations, turn = 0; left > 0; turn++) {
    const index = turn % registrations;
    const sku = benchSku(index);
    const n = Math.min(perAppend, left);
    left -= n;
    const from = versions[index];
    versions[index] += n;
    const events: NewEvent[] = Array.from({ length: n }, (_, k) => ({
      type: 'StockReceived',
      data: { sku, quantity: 1, onHand: from + k + 1, reserved: 0 },
    }));
    stockTasks.push({
      lane: index,
      run: () => store.appendToStream(stockStreamId(sku), STOCK_STREAM, events, { expectedVersion: from, metadata }),
    });
  }
  // Registrations first (a stock stream of a sku never precedes its product), then the stock in order per sku.
  await runAll(registrationTasks, 8);
  await runAll(stockTasks, 8);
  // The relay's read only sees transactions below the cluster's oldest running one (any database's).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const all = await store.readAllAfter(LOG_ORIGIN, count + 1);
    if (all.length === count) return all;
    if (Date.now() > deadline) throw new Error(`event log shows ${all.length} events, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Task {
  /** Tasks of one stream share a lane, so they run in order and never race. */
  lane: number;
  run: () => Promise<unknown>;
}

async function runAll(tasks: Task[], parallel: number): Promise<void> {
  const lanes = Array.from({ length: parallel }, (_, lane) => tasks.filter((task) => task.lane % parallel === lane));
  await Promise.all(
    lanes.map(async (lane) => {
      for (const task of lane) await task.run();
    }),
  );
}
