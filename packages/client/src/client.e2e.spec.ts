import type { CustomerOrderView } from '../../../read-model/customer-orders/customer-orders.projection';
import type { DailySalesView } from '../../../read-model/daily-sales/daily-sales.projection';
import type { InventoryView } from '../../../read-model/inventory-levels/inventory-levels.projection';
import type { OrderSummaryView } from '../../../read-model/order-summary/order-summary.projection';
import type { ProductView } from '../../../read-model/product-catalog/product-catalog.projection';
import type { RegisterProductRequest } from '../../../write-model/catalog/catalog.request.dto';
import type { PlaceOrderRequest } from '../../../write-model/orders/orders.request.dto';
import { eventually, startTestSystem, TestSystem } from '../../../test/support/system';
import { bare, testToken } from '../../../test/support/auth';
import { ConvergeClient, ConvergeProblemError } from './index';
import type { CustomerOrder, DailySales, EditConflict, InventoryLevel, Order, PlaceOrder, Product, RegisterProduct } from './index';

// Compile-time drift check (tsc): the client's types are the server's shapes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [
  Same<Product, Omit<ProductView, 'sortName'>>,
  Same<InventoryLevel, InventoryView>,
  Same<Order, OrderSummaryView>,
  Same<CustomerOrder, CustomerOrderView>,
  Same<DailySales, DailySalesView>,
  Same<RegisterProduct, RegisterProductRequest>,
  Same<PlaceOrder, PlaceOrderRequest>,
] = [true, true, true, true, true, true, true];

/** The typed client against the running system, with a slow projector so that reading your writes takes the token. */
describe('ConvergeClient', () => {
  let system: TestSystem;
  let client: ConvergeClient;
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    expect(sameShapes.every(Boolean)).toBe(true);
    system = await startTestSystem({ env: { PROJECTION_BATCH_DELAY_MS: '300' } });
    const recording: typeof fetch = (input, init) => {
      sent.push({ url: input instanceof Request ? input.url : String(input), headers: { ...(init?.headers as Record<string, string>) } });
      return fetch(input, init);
    };
    const admin = bare(await testToken('admin'));
    client = new ConvergeClient({ commandUrl: system.commandUrl, queryUrl: system.queryUrl, wait: 5, fetch: recording, token: admin });
  });
  afterAll(() => system?.dispose());

  it('reads its own writes: every read waits for the newest token of the session', async () => {
    const registered = await client.registerProduct({ sku: 'CL-MUG', name: 'Client mug', price: { amount: 1200, currency: 'EUR' } });
    expect(registered).toEqual({ id: 'CL-MUG', version: 1, token: expect.any(String), etag: '"1"' });
    expect(client.token).toBe(registered.token);
    await client.receiveStock('CL-MUG', 10);
    const product = await client.getProduct('CL-MUG');
    expect(product.data).toEqual(expect.objectContaining({ name: 'Client mug', available: 10, status: 'active' }));
    expect(product.view.stale).toBe(false);
    expect(sent[sent.length - 1].headers).toEqual(expect.objectContaining({ 'Consistency-Token': client.token, Prefer: 'wait=5' }));

    const renamed = await client.updateProductDetails('CL-MUG', { name: 'Renamed mug' }, { ifMatch: product.etag });
    // 300 ms before each projector batch: without the token the view has not caught up yet.
    const unsynced = await client.getProduct('CL-MUG', { after: false });
    expect(unsynced.data.name).toBe('Client mug');
    expect(sent[sent.length - 1].headers['Consistency-Token']).toBeUndefined();
    expect((await client.getProduct('CL-MUG')).data.name).toBe('Renamed mug');
    expect(renamed.etag).toBe('"2"');
  });

  it('places an order and reads it at once with the command token', async () => {
    const { id, token } = await client.placeOrder({
      customerId: 'cl-cust',
      lines: [{ sku: 'CL-MUG', quantity: 2 }],
      paymentToken: 'tok_approve',
    });
    const order = await client.getOrder(id, { after: token });
    expect(order.data).toEqual(expect.objectContaining({ id, customerId: 'cl-cust', total: { amount: 2400, currency: 'EUR' } }));
    expect(order.view.stale).toBe(false);
    const confirmed = await eventually(async () => {
      const read = await client.getOrder(id);
      return read.data.status === 'confirmed' && read;
    });
    const again = await client.getOrder(id, { ifNoneMatch: confirmed.etag });
    expect(again).toEqual({ notModified: true, etag: confirmed.etag });

    const shipped = await client.shipOrder(id, { ifMatch: confirmed.data.version });
    expect((await client.getOrder(id)).data.status).toBe('shipped');
    expect(shipped.version).toBe(confirmed.data.version + 1);

    const customerOrders = await client.listCustomerOrders('cl-cust', { status: 'shipped' });
    expect(customerOrders.data.map((o) => o.id)).toEqual([id]);
    const sales = await client.getDailySales({ from: today, to: today });
    expect(sales.totals.units).toBe(2);
  });

  it('covers every other route', async () => {
    await client.registerProduct({ sku: 'CL-PLATE', name: 'Client plate', price: { amount: 800, currency: 'EUR' } });
    await client.changeProductPrice('CL-PLATE', { amount: 900, currency: 'EUR' });
    await client.receiveStock('CL-PLATE', 3);
    await client.adjustStock('CL-PLATE', { quantity: -1, reason: 'chipped' });
    const first = await client.listProducts({ sort: 'price', limit: 1 });
    expect(first.data.map((p) => p.sku)).toEqual(['CL-PLATE']);
    const second = await client.listProducts({ sort: 'price', limit: 1, cursor: first.page.nextCursor! });
    expect(second.page.nextCursor).toBeNull();
    expect((await client.listProducts({ q: 'PLATE' })).data.map((p) => p.sku)).toEqual(['CL-PLATE']);
    expect(second.data.map((p) => p.sku)).toEqual(['CL-MUG']);
    expect((await client.getInventory('CL-PLATE')).data).toEqual(expect.objectContaining({ onHand: 2, available: 2 }));
    expect((await client.listInventory({ lowStock: false })).data.map((i) => i.sku)).toEqual(['CL-MUG']);

    const pending = await client.placeOrder({
      customerId: 'cl-other',
      lines: [{ sku: 'CL-PLATE', quantity: 1 }],
      paymentToken: 'tok_timeout',
    });
    await client.cancelOrder(pending.id, 'changed my mind');
    expect((await client.getOrder(pending.id)).data).toEqual(
      expect.objectContaining({ status: 'cancelled', statusReason: 'changed my mind' }),
    );
    await client.discontinueProduct('CL-PLATE');
    expect((await client.getProduct('CL-PLATE')).data.status).toBe('discontinued');

    expect((await client.listProjections()).map((p) => p.projection)).toContain('order-summary');
    expect(await client.health('command', 'ready')).toEqual({
      status: 'ok',
      info: { postgres: { status: 'up' } },
      error: {},
      details: { postgres: { status: 'up' } },
    });
    expect(await client.health('query', 'live')).toEqual({ status: 'live' });
    expect((await client.openApiDocument('query')).openapi).toMatch(/^3\./);
  });

  it('throws ConvergeProblemError with the problem document', async () => {
    const invalid = await client.registerProduct({ sku: 'CL-BAD', name: 'x', price: { amount: 1.5, currency: 'EUR' } }).catch((e) => e);
    expect(invalid).toBeInstanceOf(ConvergeProblemError);
    expect(invalid.status).toBe(400);
    expect(invalid.kind).toBe('validation');
    expect(invalid.errors).toEqual([{ field: 'price.amount', messages: [expect.stringContaining('integer')] }]);

    // Money is strict: a price change from an outdated version is refused whatever changed since.
    const stale = await client.changeProductPrice('CL-MUG', { amount: 1, currency: 'EUR' }, { ifMatch: 1 }).catch((e) => e);
    expect(stale).toMatchObject({ status: 412, kind: 'precondition-failed', problem: { currentVersion: 2 } });
    expect(stale.editConflict).toBeUndefined();
    const discontinued = await client
      .placeOrder({ customerId: 'cl-cust', lines: [{ sku: 'CL-PLATE', quantity: 1 }], paymentToken: 'tok_approve' })
      .catch((e) => e);
    expect(discontinued).toMatchObject({ status: 422, kind: 'product-discontinued' });
    const missing = await client.getOrder('00000000-0000-4000-8000-000000000000').catch((e) => e);
    expect(missing).toMatchObject({ status: 404, problem: { type: 'urn:converge:problem:not-found' } });
  });

  it('replays an idempotent command, keeps the newest token and can share it with another client', async () => {
    const order = { customerId: 'cl-idem', lines: [{ sku: 'CL-MUG', quantity: 1 }], paymentToken: 'tok_approve' };
    const first = await client.placeOrder(order, { idempotencyKey: 'cl-order-1' });
    const retry = await client.placeOrder(order, { idempotencyKey: 'cl-order-1' });
    expect(retry).toEqual(first);

    await client.updateProductDetails('CL-MUG', { name: 'Shared mug' });
    const newest = await client.receiveStock('CL-MUG', 1);
    // A change to nothing answers the product stream's older token: the session keeps the newer one.
    const unchanged = await client.updateProductDetails('CL-MUG', { name: 'Shared mug' });
    expect(unchanged.token).not.toBe(newest.token);
    expect(client.token).toBe(newest.token);

    const other = new ConvergeClient({
      commandUrl: system.commandUrl,
      queryUrl: system.queryUrl,
      session: false,
      token: bare(await testToken('admin')),
    });
    other.useToken(client.token!);
    expect((await other.getProduct('CL-MUG')).data.name).toBe('Shared mug');
    await other.receiveStock('CL-MUG', 1);
    expect(other.token).toBe(client.token);
  });

  it('says how a stale edit was resolved, and gives an edit conflict as typed data', async () => {
    const { version: seen } = await client.registerProduct({
      sku: 'CL-CUP',
      name: 'Cup',
      description: 'White',
      price: { amount: 500, currency: 'EUR' },
    });
    const alice = new ConvergeClient({
      commandUrl: system.commandUrl,
      queryUrl: system.queryUrl,
      token: bare(await testToken('catalog', 'cl-alice')),
    });
    await alice.updateProductDetails('CL-CUP', { name: 'Tea cup' });
    const merged = await client.updateProductDetails('CL-CUP', { description: 'Blue' }, { ifMatch: seen });
    expect(merged).toEqual({ id: 'CL-CUP', version: 3, token: expect.any(String), etag: '"3"', conflictResolution: 'merged' });

    const refused = await client.updateProductDetails('CL-CUP', { name: 'Coffee cup' }, { ifMatch: seen }).catch((e) => e);
    expect(refused).toBeInstanceOf(ConvergeProblemError);
    expect(refused).toMatchObject({ status: 409, kind: 'edit-conflict' });
    const details: EditConflict | undefined = (refused as ConvergeProblemError).editConflict;
    expect(details).toEqual({
      expectedVersion: 1,
      currentVersion: 3,
      conflicts: [{ field: 'name', requested: 'Coffee cup', current: 'Tea cup', changedInVersion: 2, changedBy: 'cl-alice' }],
    });
    const { version: current } = await client.updateProductDetails('CL-CUP', { name: 'Coffee cup' }, { ifMatch: details!.currentVersion });
    expect(current).toBe(4);
  });
});
