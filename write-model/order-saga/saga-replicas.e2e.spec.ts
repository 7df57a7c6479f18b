import type { RecordedEvent } from '../../src/contracts';
import { Replica, spawnReplica } from '../../test/support/replicas';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';
import { EventStore } from '../event-store/event-store';
import { PaymentSimulator } from '../payments/payment-simulator';
import { readWholeLog } from '../../test/support/rebuild';

jest.setTimeout(180_000);

const FINAL = ['confirmed', 'rejected', 'cancelled'];
const SKUS = ['PMR-A', 'PMR-B', 'PMR-C'];
const TOKENS = ['tok_approve', 'tok_flaky', 'tok_decline', 'tok_timeout'] as const;

/**
 * Two process managers as child processes sharing the saga's work, one SIGKILLed mid-saga.
 * "Exactly once" is checked twice: in the log (one authorization, refund, cancellation per order,
 * one reservation per order and sku) and in the payment simulator's own books, which every
 * replica shares through the write store, so the gateway's count is the money that really moved.
 */
describe('process-manager replicas', () => {
  let system: TestSystem;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
    for (const sku of SKUS) {
      expect((await http('POST', `${system.commandUrl}/products`, { sku, name: `PM ${sku}`, price: { amount: 500, currency: 'EUR' } })).status).toBe(201);
      expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 500 })).status).toBe(200);
    }
  });
  afterAll(async () => {
    for (const replica of replicas) replica.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await system.dispose();
  });

  const spawnManager = (id: string) => {
    const replica = spawnReplica('process-manager', id, {
      ...system.env,
      LOG_LEVEL: 'warn',
      // Room for a flaky order's step to outlive its dead replica's lease (1.6 s) and three tries on a loaded machine.
      PAYMENT_DEADLINE_MS: '10000',
      PAYMENT_GATEWAY_TIMEOUT_MS: '300',
    });
    replicas.push(replica);
    return replica;
  };
  const status = async (id: string) => (await http('GET', `${system.queryUrl}/orders/${id}`)).body?.data;

  it('finishes every order once, with no double reservation, authorization or refund, when one replica is SIGKILLed mid-saga', async () => {
    const a = spawnManager('pm-a');
    spawnManager('pm-b');
    const orders: { id: string; token: (typeof TOKENS)[number] }[] = [];
    const place = async (n: number) => {
      const token = TOKENS[n % TOKENS.length];
      const lines = [{ sku: SKUS[n % 3], quantity: 1 + (n % 2) }, { sku: SKUS[(n + 1) % 3], quantity: 1 }];
      const placed = await http('POST', `${system.commandUrl}/orders`, { customerId: `pm-${n % 5}`, lines, paymentToken: token });
      expect(placed.status).toBe(201);
      orders.push({ id: placed.body.id, token });
    };
    await Promise.all(Array.from({ length: 24 }, (_, n) => place(n)));
    // Mid-saga: some orders already moved on, others are still being reserved or paid.
    await eventually(async () => {
      const states = await Promise.all(orders.map((o) => status(o.id)));
      return states.filter((s) => s && s.status !== 'pending').length >= 4;
    }, 60_000, 'sagas under way');
    a.kill('SIGKILL');
    await Promise.all(Array.from({ length: 16 }, (_, n) => place(24 + n)));

    let open: string[] = [];
    const final = await eventually(async () => {
      const states = await Promise.all(orders.map((o) => status(o.id)));
      open = orders.map((o, i) => `${o.id} ${o.token} ${states[i]?.status}`).filter((_, i) => !FINAL.includes(states[i]?.status));
      return states.every((s) => s && FINAL.includes(s.status)) ? states : undefined;
    }, 120_000, 'every order final').catch((error: Error) => {
      throw new Error(`${error.message}; still open: ${open.join(', ')}`);
    });
    const byId = new Map(final.map((s) => [s.id as string, s]));
    for (const { id, token } of orders) {
      const expected = token === 'tok_approve' || token === 'tok_flaky' ? 'confirmed' : 'cancelled';
      expect({ id, token, status: byId.get(id).status }).toEqual({ id, token, status: expected });
    }

    // Refunds: cancel confirmed orders placed before the kill (some authorized by the killed
    // replica) and after it; the survivor refunds each once through the shared gateway books.
    const confirmed = orders.filter((o) => byId.get(o.id).status === 'confirmed');
    const cancelled = [
      ...confirmed.filter((o) => orders.indexOf(o) < 24).slice(0, 3),
      ...confirmed.filter((o) => orders.indexOf(o) >= 24).slice(0, 3),
    ];
    expect(cancelled.length).toBe(6);
    for (const { id } of cancelled) expect((await http('POST', `${system.commandUrl}/orders/${id}/cancel`, { reason: 'changed my mind' })).status).toBe(200);
    await eventually(async () => {
      const states = await Promise.all(cancelled.map((o) => status(o.id)));
      return states.every((s) => s.status === 'cancelled' && s.payment?.status === 'refunded');
    }, 60_000, 'the cancelled orders refunded');

    const log = await readWholeLog(new EventStore(system.writePool));
    const count = (type: string, key: (e: RecordedEvent) => string) => {
      const counts = new Map<string, number>();
      for (const e of log.filter((x) => x.type === type)) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
      return counts;
    };
    const data = (e: RecordedEvent) => e.data as { orderId: string; sku?: string; reason?: string; by?: string };
    const authorized = count('OrderPaymentAuthorized', (e) => data(e).orderId);
    const refunded = count('OrderPaymentRefunded', (e) => data(e).orderId);
    const reserved = count('StockReserved', (e) => `${data(e).orderId}/${data(e).sku}`);
    const released = count('StockReleased', (e) => `${data(e).orderId}/${data(e).sku}`);
    expect([...authorized.values()].every((n) => n === 1)).toBe(true);
    expect([...authorized.keys()].sort()).toEqual(confirmed.map((o) => o.id).sort());
    expect([...refunded.values()].every((n) => n === 1)).toBe(true);
    expect([...refunded.keys()].sort()).toEqual(cancelled.map((o) => o.id).sort());
    expect([...reserved.values()].every((n) => n === 1)).toBe(true);
    expect([...released.values()].every((n) => n === 1)).toBe(true);
    // A deadline fires once: one cancellation per timed-out order, by the saga, and none declined.
    const cancellations = count('OrderCancelled', (e) => data(e).orderId);
    for (const { id } of orders.filter((o) => o.token === 'tok_timeout')) {
      const events = log.filter((e) => e.type === 'OrderCancelled' && data(e).orderId === id).map((e) => ({ by: data(e).by, reason: data(e).reason }));
      expect({ id, events }).toEqual({ id, events: [{ by: 'saga', reason: 'payment timed out' }] });
    }
    expect([...cancellations.values()].every((n) => n === 1)).toBe(true);

    // The gateway's own books (shared by both replicas and the dead one): per order, the money that moved.
    const gateway = new PaymentSimulator(system.writePool);
    const refundDue = new Set(cancelled.map((o) => o.id));
    const authorizedAmount = new Map(log.filter((e) => e.type === 'OrderPaymentAuthorized').map((e) => [data(e).orderId, (e.data as { amount: unknown }).amount]));
    for (const { id, token } of orders) {
      const [stats, records] = await Promise.all([gateway.stats(id), gateway.records(id)]);
      const ops = (operation: string) => records.filter((r) => r.operation === operation);
      const approved = token === 'tok_approve' || token === 'tok_flaky';
      // Approved tokens authorized exactly once, the others never; nothing captured (nothing shipped).
      expect({ id, token, authorizations: stats.authorizations, captures: stats.captures, refunds: stats.refunds }).toEqual({
        id, token, authorizations: approved ? 1 : 0, captures: 0, refunds: refundDue.has(id) ? 1 : 0,
      });
      // Decided requests: one authorization answer per order (tok_timeout's is never decided), one refund where due.
      expect({ id, token, decided: ops('authorize').length }).toEqual({ id, token, decided: token === 'tok_timeout' ? 0 : 1 });
      if (token === 'tok_decline') expect(ops('authorize')[0].result).toEqual(expect.objectContaining({ outcome: 'declined' }));
      if (approved) expect(ops('authorize')[0].result).toEqual(expect.objectContaining({ outcome: 'approved' }));
      // tok_flaky answered "unavailable" twice before approving: several calls, still one authorization.
      if (token === 'tok_flaky') expect(stats.attempts).toBeGreaterThanOrEqual(3);
      expect(ops('refund').map((r) => r.result)).toEqual(refundDue.has(id) ? [{ refunded: authorizedAmount.get(id) }] : []);
    }
    const totals = await gateway.stats();
    expect({ authorizations: totals.authorizations, captures: totals.captures, refunds: totals.refunds }).toEqual({
      authorizations: confirmed.length, captures: 0, refunds: cancelled.length,
    });

    // No reservation leaked: what stays reserved is exactly the still-confirmed orders' lines.
    const stillConfirmed = new Set(confirmed.filter((o) => !cancelled.includes(o)).map((o) => o.id));
    for (const sku of SKUS) {
      const want = final
        .filter((s) => stillConfirmed.has(s.id))
        .flatMap((s) => s.lines as { sku: string; quantity: number }[])
        .filter((line) => line.sku === sku)
        .reduce((sum, line) => sum + line.quantity, 0);
      const level = await eventually(async () => {
        const { body } = await http('GET', `${system.queryUrl}/inventory/${sku}`);
        return body?.data?.reserved === want ? body.data : undefined;
      }, 30_000, `${sku} to have ${want} reserved`);
      expect(level).toEqual(expect.objectContaining({ onHand: 500, reserved: want, available: 500 - want }));
    }
  });
});
