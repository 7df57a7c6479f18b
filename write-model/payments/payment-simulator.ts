import { createHash } from 'node:crypto';
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

/** How many times tok_flaky answers "unavailable" per idempotency key before it approves. */
const FLAKY_FAILURES = 2;

interface Authorization {
  orderId: string;
  amount: Money;
  captured: number;
  refunded: number;
}

interface Settlement {
  fingerprint: string;
  kind: 'capture' | 'refund';
  orderId: string;
}

/** What the simulated server decided for a call: kept apart from when (or whether) the caller hears it. */
type Outcome<T> = { value: T } | { error: unknown } | 'no-answer';

/**
 * The default PaymentGateway: deterministic test tokens (DESIGN.md), idempotent per key like a real gateway.
 * Effects happen when the call arrives; a caller that times out may retry with the same key to learn the result.
 */
export class PaymentSimulator implements PaymentGateway {
  // State lives in memory here; a real gateway keeps it server-side, so it survives our restarts.
  private readonly authorizeCalls = new Map<string, { fingerprint: string; result: AuthorizationResult }>();
  private readonly authorizations = new Map<string, Authorization>();
  private readonly settlements = new Map<string, Settlement>();
  private readonly flakyAttempts = new Map<string, number>();
  private readonly attemptLog: (string | undefined)[] = [];
  private readonly latencyMs: number;

  constructor(options: PaymentSimulatorOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  authorize(request: AuthorizationRequest, options: GatewayCallOptions): Promise<AuthorizationResult> {
    this.attemptLog.push(request.orderId);
    if (request.token === 'tok_timeout' && !this.authorizeCalls.has(request.idempotencyKey)) {
      return this.reply(options, 'no-answer');
    }
    return this.reply(options, outcomeOf(() => this.decideAuthorization(request)));
  }

  capture(request: SettlementRequest, options: GatewayCallOptions): Promise<void> {
    this.attemptLog.push(this.authorizations.get(request.authorizationId)?.orderId);
    return this.reply(options, outcomeOf(() => this.settle('capture', request)));
  }

  refund(request: SettlementRequest, options: GatewayCallOptions): Promise<void> {
    this.attemptLog.push(this.authorizations.get(request.authorizationId)?.orderId);
    return this.reply(options, outcomeOf(() => this.settle('refund', request)));
  }

  /** Counts for one order, or for all of them. */
  stats(orderId?: string): PaymentStats {
    const matches = (id: string | undefined) => orderId === undefined || id === orderId;
    const settlements = [...this.settlements.values()].filter((settlement) => matches(settlement.orderId));
    return {
      authorizations: [...this.authorizations.values()].filter((auth) => matches(auth.orderId)).length,
      captures: settlements.filter((settlement) => settlement.kind === 'capture').length,
      refunds: settlements.filter((settlement) => settlement.kind === 'refund').length,
      attempts: this.attemptLog.filter(matches).length,
    };
  }

  private decideAuthorization(request: AuthorizationRequest): AuthorizationResult {
    const { idempotencyKey, orderId, amount, token } = request;
    const fingerprint = JSON.stringify(['authorize', orderId, amount.amount, amount.currency, token]);
    const known = this.authorizeCalls.get(idempotencyKey);
    if (known) {
      assertSameRequest(idempotencyKey, known.fingerprint, fingerprint);
      return known.result;
    }
    assertValidAmount(amount);
    if (token === 'tok_flaky') {
      const attempt = (this.flakyAttempts.get(idempotencyKey) ?? 0) + 1;
      this.flakyAttempts.set(idempotencyKey, attempt);
      if (attempt <= FLAKY_FAILURES) {
        throw new PaymentUnavailableError(`payment gateway unavailable (attempt ${attempt} for ${idempotencyKey})`);
      }
    }
    const result = resultFor(token, idempotencyKey);
    this.authorizeCalls.set(idempotencyKey, { fingerprint, result });
    if (result.outcome === 'approved') {
      this.authorizations.set(result.authorizationId, { orderId, amount, captured: 0, refunded: 0 });
    }
    return result;
  }

  private settle(kind: 'capture' | 'refund', request: SettlementRequest): void {
    const { idempotencyKey, authorizationId, amount } = request;
    const fingerprint = JSON.stringify([kind, authorizationId, amount.amount, amount.currency]);
    const known = this.settlements.get(idempotencyKey);
    if (known) {
      assertSameRequest(idempotencyKey, known.fingerprint, fingerprint);
      return;
    }
    const authorization = this.authorizations.get(authorizationId);
    if (!authorization) throw new Error(`unknown authorization ${authorizationId}`);
    assertValidAmount(amount, authorization.amount.currency);
    const { captured, refunded } = authorization;
    // A capture may not take what was already captured or released; a refund may not return more than was authorized.
    const authorized = authorization.amount.amount;
    const left = kind === 'capture' ? authorized - captured - refunded : authorized - refunded;
    if (amount.amount > left) {
      throw new Error(`${kind} of ${amount.amount} exceeds the ${left} left on authorization ${authorizationId}`);
    }
    if (kind === 'capture') authorization.captured += amount.amount;
    else authorization.refunded += amount.amount;
    this.settlements.set(idempotencyKey, { fingerprint, kind, orderId: authorization.orderId });
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

function outcomeOf<T>(decide: () => T): Outcome<T> {
  try {
    return { value: decide() };
  } catch (error) {
    return { error };
  }
}

/** Like a real gateway, a key reused for a different request is an error, not a silent replay. */
function assertSameRequest(idempotencyKey: string, known: string, fingerprint: string): void {
  if (known !== fingerprint) throw new Error(`idempotency key ${idempotencyKey} was used for a different request`);
}

function assertValidAmount(amount: Money, currency?: string): void {
  if (!Number.isSafeInteger(amount.amount) || amount.amount <= 0) {
    throw new Error(`amount must be a positive integer in minor units, got ${amount.amount}`);
  }
  if (currency !== undefined && amount.currency !== currency) {
    throw new Error(`amount is in ${amount.currency}, the authorization in ${currency}`);
  }
}

/** An unref'd timer: a call that never answers must not keep the process (or jest) alive. */
function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  // setTimeout fires at once for delays past 2^31-1 ms; cap there so "never" stays long.
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2 ** 31 - 1)).unref());
}
