import { allProjections } from '../../read-model/projections';
import { connectNats, eventStreamName, sagaConsumerName } from '../../src/nats';
import { PaymentSimulator } from '../payments/payment-simulator';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../../test/support/system';

const FINAL = ['confirmed', 'shipped', 'rejected', 'cancelled'];

describe('order saga', () => {
  let system: TestSystem;
  // The simulator's own books (in the write store), read as a test reads a real gateway's dashboard.
  let gateway: PaymentSimulator;

  beforeAll(async () => {
    system = await startTestSystem({ env: { PAYMENT_DEADLINE_MS: '1500', PAYMENT_GATEWAY_TIMEOUT_MS: '200' } });
    gateway = new PaymentSimulator(system.writePool);
    for (const [sku, stock] of [['S-A', 10], ['S-B', 10], ['S-C', 10], ['S-LOW', 1], ['S-HOT', 50]] as const) {
      expect((await http('POST', `${system.commandUrl}/products`, { sku, name: `Product ${sku}`, price: { amount: 250, currency: 'EUR' } })).status).toBe(201);
      expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: stock })).status).toBe(200);
    }
  });
  afterAll(() => system.dispose());

  const place = async (
    lines: { sku: string; quantity: number }[],
    paymentToken: string,
    headers: Record<string, string> = {},
    customerId = 'cust-1',
  ) => {
    const placed = await http('POST', `${system.commandUrl}/orders`, { customerId, lines, paymentToken }, headers);
    expect(placed.status).toBe(201);
    return placed.body.id as string;
  };
  const settled = (id: string, status: string | string[] = FINAL, timeoutMs = 15_000) =>
    eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/orders/${id}`);
      return [status].flat().includes(body?.data?.status) ? body.data : undefined;
    }, timeoutMs, `order ${id} to be ${String(status)}`);
  const inventory = async (sku: string) => (await http('GET', `${system.queryUrl}/inventory/${sku}`)).body.data;
  const stockSettled = (sku: string, reserved: number, onHand?: number) =>
    eventually(async () => {
      const level = await inventory(sku);
      return level.reserved === reserved && (onHand === undefined || level.onHand === onHand) ? level : undefined;
    }, 10_000, `${sku} to have ${reserved} reserved`);

  it('confirms an order of 3 skus, then ships it, committing the stock; the summary shows the whole timeline', async () => {
    const id = await place([{ sku: 'S-A', quantity: 2 }, { sku: 'S-B', quantity: 1 }, { sku: 'S-C', quantity: 3 }], 'tok_approve');
    const confirmed = await settled(id, 'confirmed');
    expect(confirmed.total).toEqual({ amount: 1500, currency: 'EUR' });
    expect(confirmed.lines[0]).toEqual(expect.objectContaining({ sku: 'S-A', name: 'Product S-A', unitPrice: { amount: 250, currency: 'EUR' } }));
    expect(await stockSettled('S-A', 2, 10)).toEqual(expect.objectContaining({ available: 8 }));

    expect((await http('POST', `${system.commandUrl}/orders/${id}/ship`)).status).toBe(200);
    const shipped = await eventually(async () => {
      const order = await settled(id, 'shipped');
      return order.payment.status === 'captured' ? order : undefined;
    });
    expect(shipped.timeline.map((t: { status: string }) => t.status)).toEqual(
      expect.arrayContaining(['pending', 'stock_reserved', 'paid', 'confirmed', 'shipped']),
    );
    for (const entry of shipped.timeline) expect(Date.parse(entry.at)).not.toBeNaN();
    expect(await stockSettled('S-A', 0, 8)).toEqual(expect.objectContaining({ available: 8 }));
    expect(await stockSettled('S-C', 0, 7)).toEqual(expect.objectContaining({ available: 7 }));
    expect(await gateway.stats(id)).toEqual(expect.objectContaining({ authorizations: 1, captures: 1, refunds: 0 }));
  });

  it('cancels on a declined payment, naming the reason, and gives every reservation back', async () => {
    const before = await inventory('S-B');
    const id = await place([{ sku: 'S-B', quantity: 2 }, { sku: 'S-C', quantity: 1 }], 'tok_decline');
    const order = await settled(id, 'cancelled');
    expect(order.statusReason).toMatch(/declined/);
    expect(order.payment.status).toBe('declined');
    expect(await stockSettled('S-B', before.reserved, before.onHand)).toEqual(expect.objectContaining({ available: before.available }));
  });

  it('rejects an order with a line out of stock, naming the sku, and leaves nothing reserved', async () => {
    const id = await place([{ sku: 'S-A', quantity: 1 }, { sku: 'S-LOW', quantity: 5 }], 'tok_approve');
    const order = await settled(id, 'rejected');
    expect(order.statusReason).toContain('S-LOW');
    await stockSettled('S-A', 0);
    await stockSettled('S-LOW', 0, 1);
  });

  it('cancels when the payment never answers, also across a restart of the process manager', async () => {
    const id = await place([{ sku: 'S-B', quantity: 1 }], 'tok_timeout');
    await settled(id, 'stock_reserved');
    await system.stop('process-manager');
    await system.start('process-manager');
    const order = await settled(id, 'cancelled', 20_000);
    expect(order.statusReason).toBe('payment timed out');
    await stockSettled('S-B', 0);
  });

  it('approves a flaky payment after its transient failures', async () => {
    const id = await place([{ sku: 'S-C', quantity: 1 }], 'tok_flaky');
    await settled(id, 'confirmed');
    expect(await gateway.stats(id)).toEqual(expect.objectContaining({ authorizations: 1 }));
    expect((await gateway.stats(id)).attempts).toBeGreaterThanOrEqual(3);
  });

  it('creates one order for the same PlaceOrder sent twice with one Idempotency-Key', async () => {
    const headers = { 'Idempotency-Key': 'place-once-1' };
    const body = { customerId: 'cust-idem', lines: [{ sku: 'S-A', quantity: 1 }], paymentToken: 'tok_approve' };
    const first = await http('POST', `${system.commandUrl}/orders`, body, headers);
    const second = await http('POST', `${system.commandUrl}/orders`, body, headers);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    await settled(first.body.id, 'confirmed');
    const { rows } = await system.writePool.query(
      `SELECT count(*)::int AS n FROM events WHERE event_type = 'OrderPlaced' AND data->>'customerId' = 'cust-idem'`,
    );
    expect(rows[0].n).toBe(1);
  });

  it('sells exactly the 50 available units to 200 concurrent orders; daily sales equal the confirmed orders', async () => {
    const ids = await Promise.all(
      Array.from({ length: 200 }, () => place([{ sku: 'S-HOT', quantity: 1 }], 'tok_approve', {}, 'cust-hot')),
    );
    // One look at the customer's orders at a time (not 200 pollers) until every order is final.
    await eventually(async () => {
      let final = 0;
      for (const status of FINAL) {
        let cursor = '';
        do {
          const { body } = await http('GET', `${system.queryUrl}/customers/cust-hot/orders?status=${status}&limit=100${cursor}`);
          final += body.data.length;
          cursor = body.page.nextCursor ? `&cursor=${encodeURIComponent(body.page.nextCursor)}` : '';
        } while (cursor);
      }
      return final >= 200;
    }, 90_000, 'all 200 orders to reach a final status');
    const orders = await Promise.all(ids.map((id) => settled(id)));
    const confirmed = orders.filter((o) => o.status === 'confirmed');
    expect(confirmed).toHaveLength(50);
    expect(orders.filter((o) => o.status === 'rejected')).toHaveLength(150);
    const { rows } = await system.writePool.query(
      `SELECT min((data->>'onHand')::int - (data->>'reserved')::int) AS lowest FROM events WHERE stream_id = 'stock-S-HOT'`,
    );
    expect(rows[0].lowest).toBe(0);
    expect(await stockSettled('S-HOT', 50, 50)).toEqual(expect.objectContaining({ available: 0 }));

    const day = new Date().toISOString().slice(0, 10);
    const { rows: sold } = await system.writePool.query(
      `SELECT count(*)::int AS orders, coalesce(sum((l->>'quantity')::int), 0)::int AS units, coalesce(sum((l->'lineTotal'->>'amount')::int), 0)::int AS revenue
       FROM events, jsonb_array_elements(data->'lines') AS l WHERE event_type = 'OrderConfirmed'`,
    );
    const report = await eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/reports/daily-sales?from=${day}&to=${day}`);
      return body?.totals?.units === sold[0].units ? body : undefined;
    }, 15_000, 'daily sales to count every confirmed order');
    expect(report.totals).toEqual({ orders: expect.any(Number), units: sold[0].units, revenue: { EUR: sold[0].revenue } });
    const hot = report.data[0].skus.find((s: { sku: string }) => s.sku === 'S-HOT');
    expect(hot).toEqual({ sku: 'S-HOT', units: 50, revenue: { EUR: 50 * 250 } });
  });

  it('changes no outcome and no view when every saga and projection message is delivered a second time', async () => {
    const projections = allProjections({ lowStockThreshold: system.config.lowStockThreshold });
    const snapshot = async () => {
      const views: Record<string, unknown> = {};
      for (const projection of projections) {
        for (const view of projection.views) {
          views[view.collection] = (await system.store.find(view.collection, { limit: 10_000 })).map((d) => [d.id, d.doc]);
        }
      }
      const { rows } = await system.writePool.query('SELECT count(*)::int AS n FROM events');
      return { views, events: rows[0].n, payments: await gateway.stats() };
    };
    const caughtUp = () => projectionsCaughtUp(system, projections.map((p) => p.name));
    // Settled: the saga has handled every order event (a slow machine may still be working on
    // the previous test's orders), and every projection has applied the whole log.
    const stream = eventStreamName(system.config.namespace);
    const sagaIdle = async () => {
      const nc = await connectNats(system.config.natsUrl, 'test-saga-idle');
      try {
        const jsm = await nc.jetstreamManager();
        await eventually(async () => {
          const info = await jsm.consumers.info(stream, sagaConsumerName(system.config.namespace));
          return info.num_pending === 0 && info.num_ack_pending === 0;
        }, 60_000, 'the saga to handle every order event');
      } finally {
        await nc.close();
      }
    };
    await sagaIdle();
    await caughtUp();
    await sagaIdle();
    const head = await caughtUp();
    const before = await snapshot();

    // Redeliver everything: the saga's durable consumer starts over, every projection forgets its checkpoint.
    await system.stop('process-manager');
    await system.stop('projector');
    const nc = await connectNats(system.config.natsUrl, 'test-redeliver');
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.delete(stream, sagaConsumerName(system.config.namespace));
    for (const projection of projections) await system.store.deleteCheckpoint(projection.name);
    await system.start('process-manager');
    await system.start('projector');
    await eventually(async () => {
      const info = await jsm.consumers.info(stream, sagaConsumerName(system.config.namespace));
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
    }, 60_000, 'the saga to see every order event again');
    await nc.close();
    expect(await caughtUp()).toBe(head);

    expect(await snapshot()).toEqual(before);
  });
});
