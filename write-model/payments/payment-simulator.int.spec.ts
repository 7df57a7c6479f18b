import { PaymentTimeoutError, PaymentUnavailableError } from './payment-gateway';
import { authorizationIdFor, PaymentSimulator } from './payment-simulator';
import { createPool } from '../../src/postgres';
import { freshDatabase, TestDatabase } from '../../test/support/env';

// The simulator's books live in the write store (payment_simulator_*): each case starts from empty books.
let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('write-store');
});
afterAll(() => db.drop());
beforeEach(async () => {
  await db.pool.query('TRUNCATE payment_simulator_requests, payment_simulator_authorizations, payment_simulator_calls');
});

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const fast = { timeoutMs: 1000 };
const authorization = (token: string, idempotencyKey = `authorize-o1-${token}`, orderId = 'o1') => ({
  idempotencyKey,
  orderId,
  amount: eur(2500),
  token,
});

async function approved(gateway: PaymentSimulator, orderId = 'o1'): Promise<string> {
  const result = await gateway.authorize(authorization('tok_approve', `authorize-${orderId}`, orderId), fast);
  if (result.outcome !== 'approved') throw new Error('expected an approval');
  return result.authorizationId;
}

describe('payment simulator: test tokens', () => {
  it('approves tok_approve with an id derived from the idempotency key', async () => {
    const gateway = new PaymentSimulator(db.pool);
    await expect(gateway.authorize(authorization('tok_approve', 'k1'), fast)).resolves.toEqual({
      outcome: 'approved',
      authorizationId: authorizationIdFor('k1'),
    });
    expect(authorizationIdFor('k1')).toMatch(/^auth_[0-9a-f]{16}$/);
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 0, refunds: 0, attempts: 1 });
  });

  it('declines tok_decline, unknown tokens and malformed ones, charging nothing', async () => {
    const gateway = new PaymentSimulator(db.pool);
    await expect(gateway.authorize(authorization('tok_decline'), fast)).resolves.toEqual({
      outcome: 'declined',
      reason: 'card declined',
    });
    await expect(gateway.authorize(authorization('tok_visa_4242'), fast)).resolves.toEqual({
      outcome: 'declined',
      reason: 'unknown test token',
    });
    await expect(gateway.authorize(authorization('not a token'), fast)).resolves.toEqual({
      outcome: 'declined',
      reason: 'malformed token',
    });
    expect(await gateway.stats()).toEqual({ authorizations: 0, captures: 0, refunds: 0, attempts: 3 });
  });

  it('never answers tok_timeout: the call rejects once timeoutMs has passed', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const started = Date.now();
    const call = gateway.authorize(authorization('tok_timeout'), { timeoutMs: 50 });
    await expect(call).rejects.toThrow(PaymentTimeoutError);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
    const again = gateway.authorize(authorization('tok_timeout'), { timeoutMs: 10 });
    await expect(again).rejects.toThrow(PaymentTimeoutError);
    expect(await gateway.stats('o1')).toEqual({ authorizations: 0, captures: 0, refunds: 0, attempts: 2 });
  });

  it('fails tok_flaky twice per idempotency key, then approves', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const first = authorization('tok_flaky', 'flaky-1');
    await expect(gateway.authorize(first, fast)).rejects.toThrow(PaymentUnavailableError);
    await expect(gateway.authorize(first, fast)).rejects.toThrow(PaymentUnavailableError);
    // Another key has its own count.
    await expect(gateway.authorize(authorization('tok_flaky', 'flaky-2', 'o2'), fast)).rejects.toThrow(
      PaymentUnavailableError,
    );
    await expect(gateway.authorize(first, fast)).resolves.toEqual({
      outcome: 'approved',
      authorizationId: authorizationIdFor('flaky-1'),
    });
    await expect(gateway.authorize(first, fast)).resolves.toEqual({
      outcome: 'approved',
      authorizationId: authorizationIdFor('flaky-1'),
    });
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 0, refunds: 0, attempts: 4 });
    expect(await gateway.stats('o2')).toEqual({ authorizations: 0, captures: 0, refunds: 0, attempts: 1 });
  });
});

describe('payment simulator: idempotency', () => {
  it('answers a repeated key with the same result and charges once', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const first = await gateway.authorize(authorization('tok_approve', 'k1'), fast);
    const second = await gateway.authorize(authorization('tok_approve', 'k1'), fast);
    expect(second).toEqual(first);
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 0, refunds: 0, attempts: 2 });
  });

  it('remembers a decline per key too', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const first = await gateway.authorize(authorization('tok_decline', 'k1'), fast);
    await expect(gateway.authorize(authorization('tok_decline', 'k1'), fast)).resolves.toEqual(first);
  });

  it('refuses a key reused for a different request', async () => {
    const gateway = new PaymentSimulator(db.pool);
    await gateway.authorize(authorization('tok_approve', 'k1'), fast);
    await expect(gateway.authorize({ ...authorization('tok_approve', 'k1'), amount: eur(1) }, fast)).rejects.toThrow(
      /different request/,
    );
  });

  it('authorizes when the answer is too slow, so a retry with the same key learns the result', async () => {
    const gateway = new PaymentSimulator(db.pool, { latencyMs: 30 });
    await expect(gateway.authorize(authorization('tok_approve', 'k1'), { timeoutMs: 5 })).rejects.toThrow(
      PaymentTimeoutError,
    );
    await expect(gateway.authorize(authorization('tok_approve', 'k1'), { timeoutMs: 500 })).resolves.toEqual({
      outcome: 'approved',
      authorizationId: authorizationIdFor('k1'),
    });
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 0, refunds: 0, attempts: 2 });
  });

  it('refuses an amount that is not a positive integer', async () => {
    const gateway = new PaymentSimulator(db.pool);
    await expect(gateway.authorize({ ...authorization('tok_approve'), amount: eur(0) }, fast)).rejects.toThrow(
      /positive integer/,
    );
  });
});

describe('payment simulator: capture and refund', () => {
  it('captures once per key', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const authorizationId = await approved(gateway);
    const capture = { idempotencyKey: 'capture-o1', authorizationId, amount: eur(2500) };
    await expect(gateway.capture(capture, fast)).resolves.toBeUndefined();
    await expect(gateway.capture(capture, fast)).resolves.toBeUndefined();
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 1, refunds: 0, attempts: 3 });
  });

  it('refunds once per key', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const authorizationId = await approved(gateway);
    const refund = { idempotencyKey: 'refund-o1', authorizationId, amount: eur(2500) };
    await gateway.refund(refund, fast);
    await gateway.refund(refund, fast);
    expect(await gateway.stats('o1')).toEqual({ authorizations: 1, captures: 0, refunds: 1, attempts: 3 });
    expect(await gateway.stats()).toEqual(await gateway.stats('o1'));
    expect(await gateway.stats('o2')).toEqual({ authorizations: 0, captures: 0, refunds: 0, attempts: 0 });
  });

  it('refuses an unknown authorization', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const request = { idempotencyKey: 'x', authorizationId: 'auth_missing', amount: eur(100) };
    await expect(gateway.capture(request, fast)).rejects.toThrow(/unknown authorization auth_missing/);
    await expect(gateway.refund(request, fast)).rejects.toThrow(/unknown authorization auth_missing/);
    expect(await gateway.stats()).toEqual({ authorizations: 0, captures: 0, refunds: 0, attempts: 2 });
  });

  it('refuses to refund more than was authorized, in total over several refunds', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const authorizationId = await approved(gateway);
    await expect(gateway.refund({ idempotencyKey: 'r1', authorizationId, amount: eur(2501) }, fast)).rejects.toThrow(
      /exceeds/,
    );
    await gateway.refund({ idempotencyKey: 'r2', authorizationId, amount: eur(2000) }, fast);
    await expect(gateway.refund({ idempotencyKey: 'r3', authorizationId, amount: eur(501) }, fast)).rejects.toThrow(
      /exceeds the 500 left/,
    );
    expect((await gateway.stats('o1')).refunds).toBe(1);
  });

  it('refuses to capture more than is left, or in another currency', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const authorizationId = await approved(gateway);
    await expect(gateway.capture({ idempotencyKey: 'c1', authorizationId, amount: eur(3000) }, fast)).rejects.toThrow(
      /exceeds/,
    );
    const usd = { amount: 100, currency: 'USD' };
    await expect(gateway.capture({ idempotencyKey: 'c2', authorizationId, amount: usd }, fast)).rejects.toThrow(/USD/);
    await gateway.refund({ idempotencyKey: 'r1', authorizationId, amount: eur(2500) }, fast);
    await expect(gateway.capture({ idempotencyKey: 'c3', authorizationId, amount: eur(1) }, fast)).rejects.toThrow(
      /exceeds the 0 left/,
    );
    expect((await gateway.stats('o1')).captures).toBe(0);
  });

  it('refuses a settlement key reused for a different request', async () => {
    const gateway = new PaymentSimulator(db.pool);
    const authorizationId = await approved(gateway);
    await gateway.capture({ idempotencyKey: 'k', authorizationId, amount: eur(2500) }, fast);
    await expect(gateway.refund({ idempotencyKey: 'k', authorizationId, amount: eur(2500) }, fast)).rejects.toThrow(
      /different request/,
    );
  });
});

describe('payment simulator: shared books', () => {
  it('decides a key once when several process managers (own pools) call at the same time', async () => {
    const otherPool = createPool(db.url, { max: 4 });
    const replicas = [new PaymentSimulator(db.pool), new PaymentSimulator(otherPool)];
    const calls = Array.from({ length: 12 }, (_, i) => replicas[i % 2].authorize(authorization('tok_approve', 'authorize-race', 'race'), fast));
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    const [first] = results;
    if (first.outcome !== 'approved') throw new Error('expected an approval');
    const settle = { idempotencyKey: 'capture-race', authorizationId: first.authorizationId, amount: eur(2500) };
    await Promise.all(Array.from({ length: 6 }, (_, i) => replicas[i % 2].capture(settle, fast)));
    expect(await replicas[1].stats('race')).toEqual({ authorizations: 1, captures: 1, refunds: 0, attempts: 18 });
    expect((await replicas[0].records('race')).map((r) => r.operation)).toEqual(['authorize', 'capture']);
    await otherPool.end();
  });

  it('a restarted simulator (a new instance) knows earlier authorizations: capture and refund find them', async () => {
    const before = new PaymentSimulator(db.pool);
    const id = await approved(before, 'o-restart');
    const after = new PaymentSimulator(db.pool);
    await after.capture({ idempotencyKey: 'capture-o-restart', authorizationId: id, amount: eur(1000) }, fast);
    await after.refund({ idempotencyKey: 'refund-o-restart', authorizationId: id, amount: eur(1000) }, fast);
    expect(await after.stats('o-restart')).toEqual({ authorizations: 1, captures: 1, refunds: 1, attempts: 3 });
  });
});
