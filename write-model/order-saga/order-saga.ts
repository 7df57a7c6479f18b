import type { CommandBus } from '@nestjs/cqrs';
import { orderStreamId, RecordedEvent, RecordedOrderEvent } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { ReleaseStock, ReserveStock } from '../inventory/inventory.commands';
import { orderDecider } from '../orders/order.decider';
import type { Order } from '../orders/order';
import { AdvanceOrder } from '../orders/orders.commands';
import type { PaymentGateway } from '../payments/payment-gateway';
import type { AggregateStore, CommandContext } from '../shared/aggregate-store';
import { DomainError } from '../shared/domain-errors';
import { noSagaMetrics, type SagaCollector } from './saga-metrics';
import type { SagaStore } from './saga-store';

export interface OrderSagaDependencies {
  bus: CommandBus;
  aggregates: AggregateStore;
  sagas: SagaStore;
  gateway: PaymentGateway;
  logger: Logger;
  /** How long after stock is reserved a payment may take before the order is cancelled. */
  paymentDeadlineMs: number;
  gatewayTimeoutMs: number;
  metrics?: SagaCollector;
}

/** The step each event starts, as `converge_saga_in_flight` names it. */
const STEPS: Partial<Record<RecordedOrderEvent['type'], string>> = {
  OrderPlaced: 'reserve-stock',
  OrderStockReserved: 'start-payment',
  OrderPaymentAuthorized: 'confirm',
  OrderPaymentDeclined: 'cancel',
  OrderRejected: 'compensate',
  OrderCancelled: 'compensate',
  OrderShipped: 'capture',
};

/**
 * The order saga: place → reserve every line → authorize payment → confirm; on any failure,
 * release what was reserved and reject or cancel the order; refund what was paid.
 * Every command it sends carries an idempotency key derived from the event that caused it,
 * so a redelivered event never reserves, charges or refunds twice.
 */
export class OrderSaga {
  constructor(private readonly deps: OrderSagaDependencies) {}

  async handle(event: RecordedOrderEvent): Promise<void> {
    const step = STEPS[event.type];
    if (!step) return;
    const metrics = this.deps.metrics ?? noSagaMetrics;
    metrics.stepStarted(step);
    try {
      await this.step(event);
    } finally {
      metrics.stepDone(step);
    }
  }

  private async step(event: RecordedOrderEvent): Promise<void> {
    switch (event.type) {
      case 'OrderPlaced':
        return this.reserveEveryLine(event);
      case 'OrderStockReserved':
        return this.startPayment(event);
      case 'OrderPaymentAuthorized':
        return this.ignoreRefusal(() =>
          this.send(new AdvanceOrder({ type: 'ConfirmOrder', orderId: event.data.orderId }, this.cause(event, 'confirm'))),
        );
      case 'OrderPaymentDeclined':
        return this.ignoreRefusal(() =>
          this.send(
            new AdvanceOrder(
              { type: 'CancelOrder', orderId: event.data.orderId, reason: `payment declined: ${event.data.reason}`, by: 'saga' },
              this.cause(event, 'cancel'),
            ),
          ),
        );
      case 'OrderRejected':
      case 'OrderCancelled':
        return this.compensate(event);
      case 'OrderShipped':
        return this.capture(event);
      default:
        return;
    }
  }

  private async reserveEveryLine(event: Extract<RecordedOrderEvent, { type: 'OrderPlaced' }>): Promise<void> {
    const { orderId, lines } = event.data;
    // Redelivered after the order was rejected or cancelled (its compensation ran): reserve nothing more.
    const { status } = await this.order(orderId);
    if (status === 'rejected' || status === 'cancelled') return this.releaseAll(event, orderId, lines);
    for (const { sku, quantity } of lines) {
      try {
        await this.send(new ReserveStock({ type: 'ReserveStock', sku, orderId, quantity }, this.cause(event, `reserve/${sku}`)));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        // Rejecting leads to OrderRejected, whose compensation releases every line.
        await this.ignoreRefusal(() =>
          this.send(
            new AdvanceOrder({ type: 'RejectOrder', orderId, reason: `${sku}: ${error.message}`, sku }, this.cause(event, 'reject')),
          ),
        );
        return this.releaseAll(event, orderId, lines);
      }
    }
    try {
      await this.send(new AdvanceOrder({ type: 'MarkStockReserved', orderId }, this.cause(event, 'reserved')));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // The customer cancelled while we reserved: give the stock back.
      await this.releaseAll(event, orderId, lines);
    }
  }

  private async startPayment(event: RecordedOrderEvent): Promise<void> {
    const order = await this.order(event.data.orderId);
    // The clock starts when the saga starts the step, so a lagging consumer does not eat the customer's time.
    const deadline = new Date(Date.now() + this.deps.paymentDeadlineMs);
    await this.deps.sagas.startAuthorization(order.orderId, order.paymentToken, order.total, deadline, {
      correlationId: event.metadata.correlationId,
      causationId: event.eventId,
    });
  }

  /** Releases every line and refunds a payment that went through: the one place compensation happens. */
  private async compensate(event: Extract<RecordedOrderEvent, { type: 'OrderRejected' | 'OrderCancelled' }>): Promise<void> {
    const order = await this.order(event.data.orderId);
    const reason = compensationReason(event);
    (this.deps.metrics ?? noSagaMetrics).compensated(reason);
    this.deps.logger.info({ orderId: order.orderId, reason, detail: event.data.reason }, 'order compensated');
    await this.deps.sagas.finish(order.orderId, 'abandoned').catch(() => undefined);
    await this.releaseAll(event, order.orderId, order.lines);
    const { payment } = order;
    if ((payment.status === 'authorized' || payment.status === 'captured') && payment.authorizationId && payment.amount) {
      await this.deps.gateway.refund(
        { idempotencyKey: `refund:${order.orderId}`, authorizationId: payment.authorizationId, amount: payment.amount },
        { timeoutMs: this.deps.gatewayTimeoutMs },
      );
      await this.ignoreRefusal(() =>
        this.send(
          new AdvanceOrder(
            { type: 'RecordPaymentRefunded', orderId: order.orderId, authorizationId: payment.authorizationId!, amount: payment.amount! },
            this.cause(event, 'refunded'),
          ),
        ),
      );
    }
  }

  private async capture(event: RecordedOrderEvent): Promise<void> {
    const order = await this.order(event.data.orderId);
    const { authorizationId, amount } = order.payment;
    if (order.payment.status !== 'authorized' || !authorizationId || !amount) return;
    await this.deps.gateway.capture(
      { idempotencyKey: `capture:${order.orderId}`, authorizationId, amount },
      { timeoutMs: this.deps.gatewayTimeoutMs },
    );
    await this.ignoreRefusal(() =>
      this.send(
        new AdvanceOrder({ type: 'RecordPaymentCaptured', orderId: order.orderId, authorizationId, amount }, this.cause(event, 'captured')),
      ),
    );
  }

  private async releaseAll(cause: RecordedEvent, orderId: string, lines: { sku: string }[]): Promise<void> {
    for (const { sku } of lines) {
      await this.ignoreRefusal(() =>
        this.send(new ReleaseStock({ type: 'ReleaseStock', sku, orderId }, this.cause(cause, `release/${sku}`))),
      );
    }
  }

  private async order(orderId: string): Promise<Order> {
    return (await this.deps.aggregates.load(orderDecider, orderStreamId(orderId))).state;
  }

  private send(command: Parameters<CommandBus['execute']>[0]) {
    return this.deps.bus.execute(command);
  }

  /** A step the order's state already made moot (cancelled meanwhile, released already) is not a failure. */
  private async ignoreRefusal(step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.deps.logger.debug({ err: error }, 'saga step refused; the order moved on');
    }
  }

  private cause(event: RecordedEvent, step: string): CommandContext {
    const key = `${event.eventId}/${step}`;
    return {
      correlationId: event.metadata.correlationId,
      causationId: event.eventId,
      actor: 'order-saga',
      actorRole: 'service',
      idempotency: { scope: 'order-saga', key, requestHash: key },
    };
  }
}

/** A few stable label values, never the free-text reason (it names skus and gateway messages). */
function compensationReason(event: Extract<RecordedOrderEvent, { type: 'OrderRejected' | 'OrderCancelled' }>): string {
  if (event.type === 'OrderRejected') return 'stock_unavailable';
  if (event.data.by === 'customer') return 'customer_cancelled';
  if (event.data.reason.startsWith('payment declined')) return 'payment_declined';
  if (event.data.reason.startsWith('payment timed out')) return 'payment_timeout';
  return 'saga_cancelled';
}
