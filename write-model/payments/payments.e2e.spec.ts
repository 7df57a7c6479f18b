import { setTimeout as sleep } from 'node:timers/promises';
import { PaymentSimulator } from './payment-simulator';
import { expectAllRunning, spawnProcess, SpawnedProcess } from '../../test/support/processes';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

const DEADLINE_MS = 6_000;
const GATEWAY_TIMEOUT_MS = 2_000;

/**
 * Payments never block each other: with a fifth of the orders on a card that never answers, every
 * order on a working card is still confirmed (each step runs on its own), and every order on the
 * silent card is cancelled at its deadline, not before.
 */
describe('payments under a steady stream of orders with timing-out and flaky cards', () => {
  let system: TestSystem;
  const SKUS = ['PAY-A', 'PAY-B', 'PAY-C', 'PAY-D'];

  beforeAll(async () => {
    system = await startTestSystem({ env: { PAYMENT_DEADLINE_MS: String(DEADLINE_MS), PAYMENT_GATEWAY_TIMEOUT_MS: String(GATEWAY_TIMEOUT_MS) } });
    for (const sku of SKUS) {
      expect((await http('POST', `${system.commandUrl}/products`, { sku, name: sku, price: { amount: 500, currency: 'EUR' } })).status).toBe(201);
      expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 100 })).status).toBe(200);
    }
  });
  afterAll(() => system?.dispose());

  it('200 orders at 10 per second, 20% tok_timeout and 20% tok_flaky: every flaky and approve order confirmed, every timeout one cancelled at its deadline', async () => {
    const tokens = ['tok_approve', 'tok_timeout', 'tok_approve', 'tok_flaky', 'tok_approve'];
    const placed: { id: string; token: string }[] = [];
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      // A steady rate: order i goes out at i × 100 ms, however long the previous one took.
      await sleep(Math.max(0, started + i * 100 - Date.now()));
      const token = tokens[i % tokens.length];
      const answer = await http('POST', `${system.commandUrl}/orders`, { customerId: `c-${i % 7}`, lines: [{ sku: SKUS[i % SKUS.length], quantity: 1 }], paymentToken: token });
      expect(answer.status).toBe(201);
      placed.push({ id: answer.body.id, token });
    }

    const settled = new Map<string, { status: string; statusReason?: string; timeline: { status: string; at: string }[] }>();
    await eventually(
      async () => {
        for (const { id } of placed) {
          if (settled.has(id)) continue;
          const { body } = await http('GET', `${system.queryUrl}/orders/${id}`);
          if (['confirmed', 'cancelled', 'rejected'].includes(body?.data?.status)) settled.set(id, body.data);
        }
        return settled.size === placed.length;
      },
      120_000,
      'every order to settle',
    );
    const outcome = (token: string) => placed.filter((p) => p.token === token).map((p) => settled.get(p.id)!.status);
    expect(outcome('tok_approve')).toEqual(Array(120).fill('confirmed'));
    expect(outcome('tok_flaky')).toEqual(Array(40).fill('confirmed'));
    expect(outcome('tok_timeout')).toEqual(Array(40).fill('cancelled'));
    for (const { id } of placed.filter((p) => p.token === 'tok_timeout')) {
      const order = settled.get(id)!;
      expect(order.statusReason).toBe('payment timed out');
      // The deadline runs from the reservation: the cancellation comes at it, never before.
      const reserved = Date.parse(order.timeline.find((t) => t.status === 'stock_reserved')!.at);
      const cancelled = Date.parse(order.timeline.find((t) => t.status === 'cancelled')!.at);
      expect(cancelled - reserved).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    }
    const gateway = new PaymentSimulator(system.writePool);
    // Each flaky card was retried with its key until it approved, and authorized once.
    for (const { id } of placed.filter((p) => p.token === 'tok_flaky')) {
      const stats = await gateway.stats(id);
      expect(stats.authorizations).toBe(1);
      expect(stats.attempts).toBeGreaterThanOrEqual(3);
    }
    expect((await gateway.stats()).authorizations).toBe(160);
  }, 240_000);
});

/**
 * The simulator's books outlive the process manager: authorize, kill it (-9) and start it again,
 * then ship one order and cancel another. The gateway's own records say captured once, refunded once.
 */
describe('payments across a process-manager restart', () => {
  let system: TestSystem;
  let manager: SpawnedProcess;

  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
    manager = spawnProcess('process-manager', { ...system.env, LOG_LEVEL: 'warn' });
    expect((await http('POST', `${system.commandUrl}/products`, { sku: 'RST', name: 'Restart', price: { amount: 700, currency: 'EUR' } })).status).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/RST/receipts`, { quantity: 10 })).status).toBe(200);
  });
  afterAll(async () => {
    await manager?.stop();
    await system?.dispose();
  });

  const order = (id: string) => eventually(async () => (await http('GET', `${system.queryUrl}/orders/${id}`)).body?.data, 5_000, `order ${id}`);
  const until = (id: string, check: (o: { status: string; payment?: { status: string } }) => boolean, what: string) =>
    eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/orders/${id}`);
      return body?.data && check(body.data) ? body.data : undefined;
    }, 60_000, `order ${id} ${what}`);

  it('captures once and refunds once after the restart, by the gateway records', async () => {
    const ids: string[] = [];
    for (const customerId of ['c-ship', 'c-cancel']) {
      const placed = await http('POST', `${system.commandUrl}/orders`, { customerId, lines: [{ sku: 'RST', quantity: 1 }], paymentToken: 'tok_approve' });
      expect(placed.status).toBe(201);
      ids.push(placed.body.id);
    }
    const [shipped, cancelled] = ids;
    for (const id of ids) await until(id, (o) => o.status === 'confirmed', 'confirmed');

    manager.child.kill('SIGKILL');
    await eventually(async () => manager.exit() !== undefined, 10_000, 'the process manager to die');
    manager = spawnProcess('process-manager', { ...system.env, LOG_LEVEL: 'warn' });

    expect((await http('POST', `${system.commandUrl}/orders/${shipped}/ship`)).status).toBe(200);
    expect((await http('POST', `${system.commandUrl}/orders/${cancelled}/cancel`, { reason: 'changed my mind' })).status).toBe(200);
    await until(shipped, (o) => o.status === 'shipped' && o.payment?.status === 'captured', 'shipped and captured');
    await until(cancelled, (o) => o.status === 'cancelled' && o.payment?.status === 'refunded', 'cancelled and refunded');
    // A moment more: a step redelivered after the restart would show up as a second capture or refund.
    await sleep(2_000);
    expectAllRunning([manager]);

    const gateway = new PaymentSimulator(system.writePool);
    expect(await gateway.stats(shipped)).toEqual(expect.objectContaining({ authorizations: 1, captures: 1, refunds: 0 }));
    expect(await gateway.stats(cancelled)).toEqual(expect.objectContaining({ authorizations: 1, captures: 0, refunds: 1 }));
    expect((await gateway.records(shipped)).map((r) => r.operation)).toEqual(['authorize', 'capture']);
    expect((await gateway.records(cancelled)).map((r) => r.operation)).toEqual(['authorize', 'refund']);
    expect((await order(shipped)).payment.status).toBe('captured');
  }, 180_000);
});
