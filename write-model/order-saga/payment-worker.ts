import type { CommandBus } from '@nestjs/cqrs';
import { type Logger, logContext } from '../../src/logger';
import { AdvanceOrder } from '../orders/orders.commands';
import { AuthorizationResult, PaymentGateway, PaymentTimeoutError, PaymentUnavailableError } from '../payments/payment-gateway';
import type { CommandContext } from '../shared/aggregate-store';
import { DomainError } from '../shared/domain-errors';
import { noSagaMetrics, type SagaCollector } from './saga-metrics';
import type { PaymentStep, SagaStore } from './saga-store';

export interface PaymentWorkerOptions {
  bus: CommandBus;
  sagas: SagaStore;
  gateway: PaymentGateway;
  logger: Logger;
  /** Longest single gateway call. */
  gatewayTimeoutMs: number;
  /** Payment steps in flight at once (each on its own: a slow one never holds another back). */
  concurrency: number;
  /** Longest sleep between looks at the saga table (a new step or a finished one also wakes the worker). */
  pollMs?: number;
  metrics?: Pick<SagaCollector, 'deadlineExpired'>;
}

/**
 * Drives the payment step of every order saga from the persisted deadlines: authorizes with
 * retries and backoff, and cancels the order once the deadline has passed. Each step is claimed
 * (leased in a short transaction) and run on its own, up to `concurrency` at once: a gateway call
 * that hangs until its timeout occupies one slot, never the others, so it delays no other order.
 * A crash or restart picks a step up again when its lease runs out.
 */
export class PaymentWorker {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: PaymentWorkerOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming and waits for the steps in flight (each bounded by the gateway timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  /** A new payment step was stored: look now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    const { sagas, gatewayTimeoutMs, concurrency, logger } = this.options;
    const pollMs = this.options.pollMs ?? 250;
    // Longer than a step can take (a gateway call, then a command): only a crashed worker's steps are taken over.
    const leaseMs = gatewayTimeoutMs * 2 + 1000;
    let failures = 0;
    while (this.running) {
      const free = concurrency - this.inFlight.size;
      let wait = pollMs;
      if (free > 0) {
        try {
          const due = await sagas.claimDue(free, leaseMs);
          failures = 0;
          for (const step of due) this.track(step);
          if (due.length === free) continue; // more may be due: claim again as soon as a slot frees
        } catch (error) {
          // The write store is away: back off (capped), the steps stay due.
          failures += 1;
          wait = Math.min(pollMs * 2 ** failures, 5_000);
          logger.warn({ err: error, retryInMs: wait }, 'payment steps not claimed; retrying');
        }
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        setTimeout(resolve, wait).unref();
      });
      this.wakeUp = undefined;
    }
    await Promise.all(this.inFlight);
  }

  /** Runs one step on its own; when it ends, its slot frees and the loop looks for more. */
  private track(step: PaymentStep): void {
    // Its log lines carry the correlation id of the request that placed the order, like the saga's others.
    const work: Promise<void> = logContext
      .run({ correlationId: correlationOf(step) }, () =>
        this.attempt(step).catch((error: unknown) => {
          // Its lease runs out and it is claimed again: every call in it is idempotent.
          this.options.logger.warn({ err: error, orderId: step.orderId }, 'payment step failed; retried when its lease ends');
        }),
      )
      .finally(() => {
        this.inFlight.delete(work);
        this.wakeUp?.();
      });
    this.inFlight.add(work);
  }

  private async attempt(step: PaymentStep): Promise<void> {
    const { sagas, gateway, gatewayTimeoutMs, logger } = this.options;
    const left = step.deadline.getTime() - Date.now();
    if (left <= 0) {
      (this.options.metrics ?? noSagaMetrics).deadlineExpired();
      await this.advance(step, 'timeout', { type: 'CancelOrder', orderId: step.orderId, reason: 'payment timed out', by: 'saga' });
      return sagas.finish(step.orderId, 'timed_out');
    }
    let result: AuthorizationResult;
    try {
      result = await gateway.authorize(
        { idempotencyKey: `authorize:${step.orderId}`, orderId: step.orderId, amount: step.amount, token: step.paymentToken },
        { timeoutMs: Math.min(gatewayTimeoutMs, left) },
      );
    } catch (error) {
      if (!(error instanceof PaymentUnavailableError || error instanceof PaymentTimeoutError)) throw error;
      const backoff = Math.min(100 * 2 ** step.attempts, 5000);
      logger.info({ orderId: step.orderId, attempt: step.attempts, err: error.message }, 'payment attempt failed, will retry');
      return sagas.retryAt(step.orderId, new Date(Math.min(Date.now() + backoff, step.deadline.getTime())), error.message);
    }
    if (result.outcome === 'declined') {
      await this.advance(step, 'declined', { type: 'RecordPaymentDeclined', orderId: step.orderId, reason: result.reason });
      return sagas.finish(step.orderId, 'declined');
    }
    const recorded = await this.advance(step, 'authorized', {
      type: 'RecordPaymentAuthorized',
      orderId: step.orderId,
      authorizationId: result.authorizationId,
      amount: step.amount,
    });
    if (!recorded) {
      // The order was cancelled while the gateway answered: give the money back.
      await gateway.refund(
        { idempotencyKey: `void:${step.orderId}`, authorizationId: result.authorizationId, amount: step.amount },
        { timeoutMs: gatewayTimeoutMs },
      );
    }
    return sagas.finish(step.orderId, 'authorized');
  }

  /** Sends a step's command with a deterministic key; false when the order's state refused it. */
  private async advance(step: PaymentStep, name: string, command: AdvanceOrder['command']): Promise<boolean> {
    const key = `payment:${step.orderId}/${name}`;
    const context: CommandContext = {
      correlationId: correlationOf(step),
      causationId: step.cause?.causationId ?? `order-saga:${step.orderId}`,
      actor: 'order-saga',
      actorRole: 'service',
      idempotency: { scope: 'order-saga', key, requestHash: key },
    };
    try {
      await this.options.bus.execute(new AdvanceOrder(command, context));
      return true;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.options.logger.debug({ orderId: step.orderId, err: error }, 'payment step refused; the order moved on');
      return false;
    }
  }
}

/** The request that placed the order; the order id for a step started before steps recorded it. */
function correlationOf(step: PaymentStep): string {
  return step.cause?.correlationId ?? step.orderId;
}
