import { randomUUID } from 'node:crypto';
import { productCatalogProjection } from '../../read-model/product-catalog/product-catalog.projection';
import { applyBatch } from '../../read-model/projector/apply-batch';
import { assertBuilt, runConverge } from '../../test/support/rebuild';
import type { DeadLetter } from '../../read-model/view-store/view-store';
import { EventStore } from '../../write-model/event-store/event-store';
import { startTestSystem, TestSystem } from '../../test/support/system';
import { orderKey, RecordedEvent } from '../contracts';

const letterOf = (event: RecordedEvent, error = 'TypeError: simulated'): DeadLetter => ({
  eventId: event.eventId,
  projection: 'product-catalog',
  orderKey: orderKey(event.txId, event.position),
  event: JSON.parse(JSON.stringify(event)),
  error,
  attempts: 5,
  failedAt: new Date(),
});

describe('converge dead-letters', () => {
  let system: TestSystem;
  let registered: RecordedEvent;
  let repriced: RecordedEvent;
  const poison = { eventId: randomUUID() } as RecordedEvent;

  beforeAll(async () => {
    assertBuilt();
    system = await startTestSystem({ pieces: [] });
    const events = new EventStore(system.writePool);
    const metadata = { correlationId: randomUUID() };
    const price = (amount: number) => ({ amount, currency: 'EUR' });
    [registered] = (await events.appendToStream('product-DL-1', 'product', [
      { type: 'ProductRegistered', data: { sku: 'DL-1', name: 'Dead letter', description: '', price: price(1000) } },
    ], { expectedVersion: 0, metadata })).events;
    [repriced] = (await events.appendToStream('product-DL-1', 'product', [
      { type: 'ProductPriceChanged', data: { sku: 'DL-1', price: price(1500), previousPrice: price(1000) } },
    ], { expectedVersion: 1, metadata })).events;
    Object.assign(poison, { ...repriced, eventId: poison.eventId, position: repriced.position + 1, data: null });

    for (const view of productCatalogProjection.views) await system.store.ensureCollection(view);
    // As the projector leaves it when the price change keeps failing: applied up to the registration, checkpoint past both.
    const view = applyBatch(productCatalogProjection, [registered], new Map(), { maxAttempts: 1 });
    await system.store.commit({
      projection: 'product-catalog',
      changes: view.changes,
      deadLetters: [letterOf(repriced), letterOf(poison)],
      checkpoint: { orderKey: orderKey(repriced.txId, repriced.position), position: repriced.position, eventRecordedAt: repriced.recordedAt, pending: 0 },
    });
  });
  afterAll(() => system.dispose());

  it('lists and shows dead letters, in text and JSON', async () => {
    const list = await runConverge(['dead-letters', 'list', '--json'], system.env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((d: DeadLetter) => d.eventId).sort()).toEqual([repriced.eventId, poison.eventId].sort());
    const text = await runConverge(['dead-letters', 'list', '--projection', 'product-catalog'], system.env);
    expect(text.stdout).toContain(`product-catalog  ${repriced.eventId}  ProductPriceChanged at position ${repriced.position}`);
    expect((await runConverge(['dead-letters', 'list', '--projection', 'order-summary'], system.env)).stdout).toContain('no dead letters for order-summary');

    const show = await runConverge(['dead-letters', 'show', 'product-catalog', repriced.eventId, '--json'], system.env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual(
      expect.objectContaining({ eventId: repriced.eventId, error: 'TypeError: simulated', attempts: 5, event: expect.objectContaining({ type: 'ProductPriceChanged' }) }),
    );
  });

  it('refuses unknown projections and events with clear messages', async () => {
    const unknown = await runConverge(['dead-letters', 'list', '--projection', 'products'], system.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('valid projections: product-catalog, inventory-levels');
    const missing = await runConverge(['dead-letters', 'show', 'product-catalog', randomUUID()], system.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter for event');
  });

  it('retries a dead letter: applies it to the view and removes it', async () => {
    expect((await system.store.get('products', 'DL-1'))!.doc.price).toEqual({ amount: 1000, currency: 'EUR' });
    const retry = await runConverge(['dead-letters', 'retry', 'product-catalog', repriced.eventId], system.env);
    expect(retry.stdout).toContain(`applied event ${repriced.eventId} to products/DL-1; dead letter removed`);
    expect(retry.code).toBe(0);
    const product = (await system.store.get('products', 'DL-1'))!;
    expect(product.doc.price).toEqual({ amount: 1500, currency: 'EUR' });
    expect(product.applied).toBe(orderKey(repriced.txId, repriced.position));
    expect(await system.store.deadLetter('product-catalog', repriced.eventId)).toBeUndefined();
  });

  it('says so when the documents already moved past the event (the guard makes the retry a no-op)', async () => {
    await system.store.commit({
      projection: 'product-catalog',
      changes: [],
      deadLetters: [letterOf(registered)],
      checkpoint: { orderKey: orderKey(repriced.txId, repriced.position), position: repriced.position, eventRecordedAt: null, pending: 0 },
    });
    const before = (await system.store.get('products', 'DL-1'))!;
    const retry = await runConverge(['dead-letters', 'retry', 'product-catalog', registered.eventId], system.env);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('no change to products/DL-1: already past the event');
    expect(await system.store.get('products', 'DL-1')).toEqual(before);
    expect(await system.store.deadLetter('product-catalog', registered.eventId)).toBeUndefined();
  });

  it('keeps a dead letter whose event still fails, and discards it on request', async () => {
    const retry = await runConverge(['dead-letters', 'retry', 'product-catalog', poison.eventId], system.env);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain(`event ${poison.eventId} still fails in product-catalog`);
    expect(await system.store.deadLetter('product-catalog', poison.eventId)).toBeDefined();

    const discard = await runConverge(['dead-letters', 'discard', 'product-catalog', poison.eventId], system.env);
    expect(discard.code).toBe(0);
    expect(await system.store.deadLetters('product-catalog')).toEqual([]);
    const again = await runConverge(['dead-letters', 'discard', 'product-catalog', poison.eventId], system.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no dead letter for event');
  });
});
