import type { Money } from '../../src/contracts';

/** The payment port the order saga talks to; the simulator and any real gateway adapter implement it. */
export type AuthorizationResult =
  | { outcome: 'approved'; authorizationId: string }
  | { outcome: 'declined'; reason: string };

export interface AuthorizationRequest {
  idempotencyKey: string;
  orderId: string;
  amount: Money;
  token: string;
}

export interface SettlementRequest {
  idempotencyKey: string;
  authorizationId: string;
  amount: Money;
}

export interface GatewayCallOptions {
  timeoutMs: number;
}

export interface PaymentGateway {
  authorize(request: AuthorizationRequest, options: GatewayCallOptions): Promise<AuthorizationResult>;
  capture(request: SettlementRequest, options: GatewayCallOptions): Promise<void>;
  refund(request: SettlementRequest, options: GatewayCallOptions): Promise<void>;
}

/** Transient: the gateway could not take the call; retry later with the same idempotency key. */
export class PaymentUnavailableError extends Error {
  override name = 'PaymentUnavailableError';
}

/** No answer within timeoutMs: the outcome is unknown, so a retry must reuse the idempotency key. */
export class PaymentTimeoutError extends Error {
  override name = 'PaymentTimeoutError';
}
