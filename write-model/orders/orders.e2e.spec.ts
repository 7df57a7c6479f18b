import { PaymentSimulator } from '../payments/payment-simulator';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

describe('orders over HTTP', () => {
  let system: TestSystem;
  // The simulator's own books (in the write store), read as a test reads a real gateway's dashboard.
  let gateway: PaymentSimulator;
  const eventCount = async () => (await system.writePool.query('SELECT count(*)::int AS n FROM events')).rows[0].n;

  beforeAll(async () => {
    system = await startTestSystem();
    gateway = new PaymentSimulator(system.writePool);
    for (const sku of ['O-1', 'O-2']) {
      await http('POST', `${system.commandUrl}/products`, { sku, name: sku, price: { amount: 1000, currency: 'EUR' } });
      await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 100 });
    }
    await http('POST', `${system.commandUrl}/products`, { sku: 'O-OLD', name: 'old', price: { amount: 1, currency: 'EUR' } });
    await http('POST', `${system.commandUrl}/products/O-OLD/discontinue`);
  });
  afterAll(() => system.dispose());

  const order = (lines: unknown, paymentToken: unknown = 'tok_approve', customerId: unknown = 'c-1') => ({ customerId, lines, paymentToken });
  const line = (sku: string, quantity: unknown = 1) => ({ sku, quantity });

  it.each([
    ['no lines', order([]), 400, 'lines'],
    ['51 lines', order(Array.from({ length: 51 }, (_, i) => line(`S${i}`))), 400, 'lines'],
    ['zero quantity', order([line('O-1', 0)]), 400, 'lines.0.quantity'],
    ['negative quantity', order([line('O-1', -2)]), 400, 'lines.0.quantity'],
    ['fractional quantity', order([line('O-1', 1.5)]), 400, 'lines.0.quantity'],
    ['duplicate skus', order([line('O-1'), line('O-1', 2)]), 400, 'lines'],
    ['malformed payment token', order([line('O-1')], 'card 4242'), 400, 'paymentToken'],
    ['missing payment token', { customerId: 'c-1', lines: [line('O-1')] }, 400, 'paymentToken'],
    ['unknown field', { ...order([line('O-1')]), coupon: 'FREE' }, 400, 'coupon'],
    ['unknown field in a line', order([{ sku: 'O-1', quantity: 1, price: 1 }]), 400, 'lines.0.price'],
    ['bad customer id', order([line('O-1')], 'tok_approve', 'x y'), 400, 'customerId'],
  ])('refuses %s with 400 naming the field, writing nothing', async (_, body, status, field) => {
    const before = await eventCount();
    const response = await http('POST', `${system.commandUrl}/orders`, body);
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['an unknown sku', [line('NOPE')], 'unknown-sku'],
    ['a discontinued product', [line('O-OLD')], 'product-discontinued'],
  ])('refuses %s with 422 naming the sku, writing nothing', async (_, lines, reason) => {
    const before = await eventCount();
    const response = await http('POST', `${system.commandUrl}/orders`, order(lines));
    expect(response.status).toBe(422);
    expect(response.body).toEqual(expect.objectContaining({ reason, sku: lines[0].sku }));
    expect(await eventCount()).toBe(before);
  });

  it('refuses a body on ship and an If-Match on a new order, writing nothing', async () => {
    const before = await eventCount();
    const ship = await http('POST', `${system.commandUrl}/orders/6f1c2f6e-3c1b-4b8e-9d5e-2f1d1c0b9a7e/ship`, { force: true });
    expect(ship.status).toBe(400);
    expect(ship.body.errors[0].field).toBe('force');
    const pinned = await http('POST', `${system.commandUrl}/orders`, order([line('O-1')]), { 'If-Match': '"5"' });
    expect(pinned.status).toBe(412);
    expect(await eventCount()).toBe(before);
  });

  it('answers 404 for an unknown order and 400 for a malformed id', async () => {
    expect((await http('POST', `${system.commandUrl}/orders/6f1c2f6e-3c1b-4b8e-9d5e-2f1d1c0b9a7e/cancel`, {})).status).toBe(404);
    expect((await http('POST', `${system.commandUrl}/orders/not-a-uuid/ship`)).status).toBe(400);
  });

  it('refunds a paid order the customer cancels, releasing its stock; shipping it then is a 409 naming the status', async () => {
    const placed = await http('POST', `${system.commandUrl}/orders`, order([line('O-1', 3), line('O-2', 1)]));
    expect(placed.status).toBe(201);
    const id = placed.body.id;
    await eventually(async () => (await http('GET', `${system.queryUrl}/orders/${id}`)).body?.data?.status === 'confirmed');

    const cancelled = await http('POST', `${system.commandUrl}/orders/${id}/cancel`, { reason: 'found it cheaper' });
    expect(cancelled.status).toBe(200);
    const view = await eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/orders/${id}`);
      return body?.data?.payment?.status === 'refunded' ? body.data : undefined;
    });
    expect(view).toEqual(expect.objectContaining({ status: 'cancelled', statusReason: 'found it cheaper' }));
    expect(await gateway.stats(id)).toEqual(expect.objectContaining({ authorizations: 1, refunds: 1, captures: 0 }));
    await eventually(async () => (await http('GET', `${system.queryUrl}/inventory/O-1`)).body?.data?.reserved === 0);

    const ship = await http('POST', `${system.commandUrl}/orders/${id}/ship`);
    expect(ship.status).toBe(409);
    expect(ship.body).toEqual(expect.objectContaining({ status: 409, reason: 'invalid-transition', currentStatus: 'cancelled' }));
    expect(ship.body.detail).toContain('cancelled');
    const again = await http('POST', `${system.commandUrl}/orders/${id}/cancel`, {});
    expect(again.status).toBe(409);
  });

  it("lists a customer's orders by status with cursor pagination", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await http('POST', `${system.commandUrl}/orders`, order([line('O-2')], 'tok_approve', 'c-list'))).body.id);
    await eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/customers/c-list/orders?status=confirmed`);
      return body?.data?.length === 3;
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof http>> = await http(
        'GET',
        `${system.queryUrl}/customers/c-list/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((o: { id: string }) => o.id));
      cursor = page.body.page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await http('GET', `${system.queryUrl}/customers/c-list/orders?status=bogus`)).status).toBe(400);
    expect((await http('GET', `${system.queryUrl}/reports/daily-sales?from=2026-02-30&to=2026-03-01`)).status).toBe(400);
    expect((await http('GET', `${system.queryUrl}/reports/daily-sales?from=2026-03-02&to=2026-03-01`)).status).toBe(400);
  });
});
