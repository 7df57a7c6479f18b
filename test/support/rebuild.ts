/**
 * Shared by the rebuild and CLI integration tests (not used by the product): a quick way to
 * fill the log with a catalog history, and the built `converge` CLI as a child process.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { EventStore, StreamAppend } from '../../write-model/event-store/event-store';
import { orderKey, RecordedEvent } from '../../src/contracts';
import { projectRoot } from '../../src/paths';
import type { ViewStore } from '../../read-model/view-store/view-store';

/**
 * Appends `products` product streams of `eventsPerProduct` events each (registration, then
 * price and detail changes) plus a stock stream per product, in large multi-stream appends.
 * Returns the skus and the order key of the last event.
 */
export async function appendCatalogHistory(
  pool: Pool,
  options: { products: number; eventsPerProduct: number; prefix?: string },
): Promise<{ skus: string[]; lastKey: string; events: number }> {
  const store = new EventStore(pool);
  const prefix = options.prefix ?? 'SKU';
  const skus = Array.from({ length: options.products }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);
  const streams: StreamAppend[] = [];
  for (const sku of skus) {
    const events = [{ type: 'ProductRegistered', data: { sku, name: `Product ${sku}`, description: 'made for tests', price: { amount: 1000, currency: 'EUR' } } }];
    let price = 1000;
    let onHand = 0;
    const stock = [];
    for (let i = 1; i < options.eventsPerProduct; i++) {
      if (i % 3 === 0) {
        onHand += 5;
        stock.push({ type: 'StockReceived', data: { sku, onHand, reserved: 0, quantity: 5 } });
      } else if (i % 3 === 1) {
        events.push({ type: 'ProductPriceChanged', data: { sku, price: { amount: price + 1, currency: 'EUR' }, previousPrice: { amount: price, currency: 'EUR' } } } as never);
        price += 1;
      } else {
        events.push({ type: 'ProductDetailsUpdated', data: { sku, name: `Product ${sku} v${i}`, description: `revision ${i}` } } as never);
      }
    }
    streams.push({ streamId: `product-${sku}`, streamType: 'product', expectedVersion: 0, events });
    if (stock.length) streams.push({ streamId: `stock-${sku}`, streamType: 'stock', expectedVersion: 0, events: stock });
  }
  let lastKey = '';
  let events = 0;
  // About 2,000 events per transaction: large appends, as a busy log would have them.
  const perAppend = Math.max(1, Math.floor(2000 / options.eventsPerProduct) * 2);
  for (let i = 0; i < streams.length; i += perAppend) {
    const result = await store.append(streams.slice(i, i + perAppend), { metadata: { correlationId: randomUUID() } });
    lastKey = orderKey(result.txId, result.lastPosition);
    events += result.events.length;
  }
  return { skus, lastKey, events };
}

/** Waits until the projection's live checkpoint has reached the key (the live projector caught up). */
export async function caughtUp(store: ViewStore, projection: string, key: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (((await store.checkpoint(projection))?.orderKey ?? '') >= key) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${projection} did not reach ${key} within ${timeoutMs} ms`);
}

/** The order key of the newest event in the log. */
export async function logHead(pool: Pool): Promise<string> {
  const { rows } = await pool.query('SELECT tx_id::text AS tx, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1');
  return rows[0] ? orderKey(rows[0].tx, rows[0].position) : '';
}

const CLI = join(projectRoot(), 'bin', 'converge.js');

/** The CLI tests run the built CLI (dist/), as an operator would; say so plainly when it is missing. */
export function assertBuilt(): void {
  if (!existsSync(join(projectRoot(), 'dist', 'src', 'cli', 'converge.js'))) {
    throw new Error('dist/src/cli/converge.js is missing: run "npm run build" before these tests (npm test does)');
  }
}

export function spawnConverge(args: string[], env: Record<string, string>): ChildProcess {
  assertBuilt();
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function runConverge(args: string[], env: Record<string, string>): Promise<CliRun> {
  return finished(spawnConverge(args, env));
}

/** Every event of the log, in the relay's order, read in pages (what a test compares views and the stream with). */
export async function readWholeLog(events: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after = { txId: '0', position: 0 };
  for (;;) {
    const page = await events.readAllAfter(after, 5000);
    if (!page.length) return all;
    all.push(...page);
    after = { txId: page[page.length - 1].txId, position: page[page.length - 1].position };
  }
}
