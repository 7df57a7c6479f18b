import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { Money, PAYMENT_TOKEN_PATTERN } from '../../src/contracts';
import {
  AuthorizationRequest,
  AuthorizationResult,
  GatewayCallOptions,
  PaymentGateway,
  PaymentTimeoutError,
  PaymentUnavailableError,
  SettlementRequest,
} from './payment-gateway';

export interface PaymentSimulatorOptions {
  /** How long every answer takes; an answer slower than the caller's timeoutMs arrives as a timeout. */
  latencyMs?: number;
}

/** Distinct effective operations (approved authorizations, captures, refunds) and every call made. */
export interface PaymentStats {
  authorizations: number;
  captures: number;
  refunds: number;
  attempts: number;
}

/** One decided request in the simulator's books, as an operator or a test reads them. */
export interface PaymentRecord {
  idempotencyKey: string;
  operation: 'authorize' | 'capture' | 'refund';
  orderId: string | null;
  result: unknown;
  decidedAt: Date;
}

/** How many times tok_flaky answers "unavailable" per idempotency key before it approves. */
const FLAKY_FAILURES = 2;

type Operation = PaymentRecord['operation'];

interface RequestRow {
  fingerprint: string;
  failures: number;
  result: unknown;
}

interface AuthorizationRow {
  order_id: string;
  amount: number;
  currency: string;
  captured: number;
  refunded: number;
}

/** What the simulated server decided for a call: kept apart from when (or whether) the caller hears it. */
type Outcome<T> = { value: T } | { error: unknown } | 'no-answer';

/** The simulator refused the request (a real gateway's 4xx): retrying the same request will not help. */
class PaymentRefused extends Error {
  override name = 'PaymentRefused';
}

/**
 * The default PaymentGateway: deterministic test tokens (DESIGN.md), idempotent per key like a
 * real gateway. Its books (payment_simulator_* tables in the write store) play the gateway's
 * servers: every process-manager replica and every restart sees the same authorizations and
 * keys, and each key is decided once, under a lock, however many callers race on it. Effects
 * happen when the call arrives; a caller that times out may retry with the same key to learn the result.
 */
export class PaymentSimulator implements PaymentGateway {
  private readonly latencyMs: number;

  constructor(private readonly pool: Pool, options: PaymentSimulatorOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  async authorize(request: AuthorizationRequest, options: GatewayCallOptions): Promise<AuthorizationResult> {
    return this.reply(options, await this.decide(() => this.decideAuthorization(request)));
  }

  async capture(request: SettlementRequest, options: GatewayCallOptions): Promise<void> {
    return this.reply(options, await this.decide(() => this.settle('capture', request)));
  }

  async refund(request: SettlementRequest, options: GatewayCallOptions): Promise<void> {
    return this.reply(options, await this.decide(() => this.settle('refund', request)));
  }

  /** Counts for one order, or for all of them, from the simulator's own books. */
  async stats(orderId?: string): Promise<PaymentStats> {
    const { rows } = await this.pool.query<PaymentStats>(
      `SELECT (SELECT count(*) FROM payment_simulator_authorizations WHERE $1::text IS NULL OR order_id = $1)::int AS authorizations,
              (SELECT count(*) FROM payment_simulator_requests WHERE operation = 'capture' AND result IS NOT NULL
                 AND ($1::text IS NULL OR order_id = $1))::int AS captures,
              (SELECT count(*) FROM payment_simulator_requests WHERE operation = 'refund' AND result IS NOT NULL
                 AND ($1::text IS NULL OR order_id = $1))::int AS refunds,
              (SELECT count(*) FROM payment_simulator_calls WHERE $1::text IS NULL OR order_id = $1)::int AS attempts`,
      [orderId ?? null],
    );
    return rows[0];
  }

  /** Every decided request of an order, oldest first: what the gateway says happened to its money. */
  async records(orderId: string): Promise<PaymentRecord[]> {
    const { rows } = await this.pool.query<PaymentRecord>(
      `SELECT idempotency_key AS "idempotencyKey", operation, order_id AS "orderId", result, decided_at AS "decidedAt"
       FROM payment_simulator_requests WHERE order_id = $1 AND result IS NOT NULL ORDER BY decided_at, idempotency_key`,
      [orderId],
    );
    return rows;
  }

  private async decideAuthorization(request: AuthorizationRequest): Promise<Outcome<AuthorizationResult>> {
    const { idempotencyKey, orderId, amount, token } = request;
    await this.logCall('authorize', idempotencyKey, orderId);
    const fingerprint = JSON.stringify(['authorize', orderId, amount.amount, amount.currency, token]);
    return this.underKey<AuthorizationResult>(idempotencyKey, async (client, known) => {
      if (known?.result) {
        assertSameRequest(idempotencyKey, known.fingerprint, fingerprint);
        return { value: known.result as AuthorizationResult };
      }
      if (token === 'tok_timeout') return 'no-answer';
      assertValidAmount(amount);
      const save = (failures: number, result: AuthorizationResult | null) =>
        client.query(
          `INSERT INTO payment_simulator_requests (idempotency_key, operation, fingerprint, order_id, failures, result, decided_at)
           VALUES ($1, 'authorize', $2, $3, $4, $5, CASE WHEN $5::jsonb IS NULL THEN NULL ELSE now() END)
           ON CONFLICT (idempotency_key) DO UPDATE SET failures = EXCLUDED.failures, result = EXCLUDED.result, decided_at = EXCLUDED.decided_at`,
          [idempotencyKey, fingerprint, orderId, failures, result && JSON.stringify(result)],
        );
      if (token === 'tok_flaky') {
        const failures = (known?.failures ?? 0) + 1;
        if (failures <= FLAKY_FAILURES) {
          await save(failures, null);
          return { error: new PaymentUnavailableError(`payment gateway unavailable (attempt ${failures} for ${idempotencyKey})`) };
        }
      }
      const result = resultFor(token, idempotencyKey);
      await save(known?.failures ?? 0, result);
      if (result.outcome === 'approved') {
        await client.query(
          `INSERT INTO payment_simulator_authorizations (authorization_id, order_id, amount, currency) VALUES ($1, $2, $3, $4)
           ON CONFLICT (authorization_id) DO NOTHING`,
          [result.authorizationId, orderId, amount.amount, amount.currency],
        );
      }
      return { value: result };
    });
  }

  private async settle(kind: 'capture' | 'refund', request: SettlementRequest): Promise<Outcome<void>> {
    const { idempotencyKey, authorizationId, amount } = request;
    const owner = await this.pool.query<{ order_id: string }>('SELECT order_id FROM payment_simulator_authorizations WHERE authorization_id = $1', [
      authorizationId,
    ]);
    const orderId = owner.rows[0]?.order_id ?? null;
    await this.logCall(kind, idempotencyKey, orderId);
    const fingerprint = JSON.stringify([kind, authorizationId, amount.amount, amount.currency]);
    return this.underKey(idempotencyKey, async (client, known) => {
      if (known?.result) {
        assertSameRequest(idempotencyKey, known.fingerprint, fingerprint);
        return { value: undefined };
      }
      const { rows } = await client.query<AuthorizationRow>(
        'SELECT order_id, amount, currency, captured, refunded FROM payment_simulator_authorizations WHERE authorization_id = $1 FOR UPDATE',
        [authorizationId],
      );
      const authorization = rows[0];
      if (!authorization) throw new PaymentRefused(`unknown authorization ${authorizationId}`);
      assertValidAmount(amount, authorization.currency);
      // A capture may not take what was already captured or released; a refund may not return more than was authorized.
      const left = kind === 'capture' ? authorization.amount - authorization.captured - authorization.refunded : authorization.amount - authorization.refunded;
      if (amount.amount > left) {
        throw new PaymentRefused(`${kind} of ${amount.amount} exceeds the ${left} left on authorization ${authorizationId}`);
      }
      await client.query(
        `UPDATE payment_simulator_authorizations SET ${kind === 'capture' ? 'captured = captured' : 'refunded = refunded'} + $2 WHERE authorization_id = $1`,
        [authorizationId, amount.amount],
      );
      await client.query(
        `INSERT INTO payment_simulator_requests (idempotency_key, operation, fingerprint, order_id, result, decided_at)
         VALUES ($1, $2, $3, $4, $5, now())`,
        [idempotencyKey, kind, fingerprint, authorization.order_id, JSON.stringify({ [kind === 'capture' ? 'captured' : 'refunded']: amount })],
      );
      return { value: undefined };
    });
  }

  /** Decides one key at a time, whoever asks (several process managers race on a redelivered step). */
  private async underKey<T>(key: string, decide: (client: PoolClient, known: RequestRow | undefined) => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('payment-simulator: ' || $1))`, [key]);
      const { rows } = await client.query<RequestRow>('SELECT fingerprint, failures, result FROM payment_simulator_requests WHERE idempotency_key = $1', [key]);
      const outcome = await decide(client, rows[0]);
      await client.query('COMMIT');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async logCall(operation: Operation, idempotencyKey: string, orderId: string | null): Promise<void> {
    await this.pool.query('INSERT INTO payment_simulator_calls (operation, idempotency_key, order_id) VALUES ($1, $2, $3)', [operation, idempotencyKey, orderId]);
  }

  /** A refusal is the gateway's answer; its books being out of reach is the gateway being unavailable (retry). */
  private async decide<T>(decision: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await decision();
    } catch (error) {
      if (error instanceof PaymentRefused) return { error };
      return { error: new PaymentUnavailableError(`payment gateway unavailable: ${error instanceof Error ? error.message : String(error)}`) };
    }
  }

  /** Delivers the outcome after the simulated latency, or a timeout when that is longer than the caller waits. */
  private async reply<T>(options: GatewayCallOptions, outcome: Outcome<T>): Promise<T> {
    const answersInMs = outcome === 'no-answer' ? Infinity : this.latencyMs;
    await sleep(Math.min(answersInMs, options.timeoutMs));
    if (outcome === 'no-answer' || answersInMs > options.timeoutMs) {
      throw new PaymentTimeoutError(`payment gateway did not answer within ${options.timeoutMs} ms`);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }
}

function resultFor(token: string, idempotencyKey: string): AuthorizationResult {
  if (!PAYMENT_TOKEN_PATTERN.test(token)) return { outcome: 'declined', reason: 'malformed token' };
  switch (token) {
    case 'tok_approve':
    case 'tok_flaky':
      return { outcome: 'approved', authorizationId: authorizationIdFor(idempotencyKey) };
    case 'tok_decline':
      return { outcome: 'declined', reason: 'card declined' };
    default:
      return { outcome: 'declined', reason: 'unknown test token' };
  }
}

/** Deterministic, so a retried call and a restarted test see the same id. */
export function authorizationIdFor(idempotencyKey: string): string {
  return `auth_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}`;
}

/** Like a real gateway, a key reused for a different request is an error, not a silent replay. */
function assertSameRequest(idempotencyKey: string, known: string, fingerprint: string): void {
  if (known !== fingerprint) throw new PaymentRefused(`idempotency key ${idempotencyKey} was used for a different request`);
}

function assertValidAmount(amount: Money, currency?: string): void {
  if (!Number.isSafeInteger(amount.amount) || amount.amount <= 0) {
    throw new PaymentRefused(`amount must be a positive integer in minor units, got ${amount.amount}`);
  }
  if (currency !== undefined && amount.currency !== currency) {
    throw new PaymentRefused(`amount is in ${amount.currency}, the authorization in ${currency}`);
  }
}

/** An unref'd timer: a call that never answers must not keep the process (or jest) alive. */
function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  // setTimeout fires at once for delays past 2^31-1 ms; cap there so "never" stays long.
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2 ** 31 - 1)).unref());
}
