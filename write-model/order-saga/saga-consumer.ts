import { AckPolicy, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { decodeEvent, H, ORDER_STREAM, RecordedOrderEvent } from '../../src/contracts';
import { type Logger, logContext } from '../../src/logger';
import { DurableConsumer, redeliverLater, sagaConsumerName, streamTypeSubjects } from '../../src/nats';
import type { OrderSaga } from './order-saga';

const MAX_CONCURRENT_ORDERS = 32;

/**
 * The order saga's durable JetStream consumer: each message is acknowledged after the saga
 * handled it; a failure is retried by redelivery with a growing delay. Every step is
 * idempotent, so a redelivery (or a crash before the ack) changes no outcome.
 */
export class SagaConsumer {
  private readonly consumer: DurableConsumer;
  /** Per order, the handling of its latest event: the next one waits for it. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Messages waiting for a free slot (at most MAX_CONCURRENT_ORDERS are handled at once). */
  private readonly waiting: JsMsg[] = [];
  private handling = 0;
  private idle?: () => void;

  constructor(
    private readonly options: {
      nc: NatsConnection;
      namespace: string;
      saga: OrderSaga;
      logger: Logger;
      /** Called after each handled event (the payment worker is woken by it). */
      afterEvent?: (event: RecordedOrderEvent) => void;
      /**
       * Runs one order's step so that no other replica runs a step of the same order meanwhile
       * (OrderLocks): replicas share the durable consumer, so one order's events can reach both.
       */
      serialize?: (orderId: string, step: () => Promise<void>) => Promise<void>;
    },
  ) {
    this.consumer = new DurableConsumer({
      nc: options.nc,
      namespace: options.namespace,
      durable: sagaConsumerName(options.namespace),
      config: {
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: streamTypeSubjects(options.namespace, ORDER_STREAM),
        // A killed replica's unacknowledged events go to another replica after this long.
        ack_wait: nanos(10_000),
        max_deliver: -1,
        max_ack_pending: 1000,
      },
      maxMessages: 200,
      logger: options.logger,
    });
  }

  async start(): Promise<void> {
    await this.consumer.open((message) => this.accept(message));
  }

  /** Stops taking messages and waits for the ones being handled; the rest are redelivered later. */
  async stop(): Promise<void> {
    await this.consumer.close();
    this.waiting.length = 0;
    while (this.handling > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /**
   * Orders are independent: their events are handled concurrently (bounded), while the events
   * of one order are handled one after the other, in stream order.
   */
  private accept(message: JsMsg): void {
    if (this.handling >= MAX_CONCURRENT_ORDERS) {
      this.waiting.push(message);
      return;
    }
    this.handling += 1;
    const orderId = message.headers?.get(H.streamId) ?? '';
    const next = (this.chains.get(orderId) ?? Promise.resolve()).then(() => this.handle(message));
    this.chains.set(orderId, next);
    void next.then(() => {
      if (this.chains.get(orderId) === next) this.chains.delete(orderId);
      this.handling -= 1;
      const queued = this.waiting.shift();
      if (queued) this.accept(queued);
      else if (this.handling === 0) this.idle?.();
    });
  }

  private async handle(message: JsMsg): Promise<void> {
    let event: RecordedOrderEvent | undefined;
    try {
      const decoded = (event = decodeEvent(message.data) as RecordedOrderEvent);
      const step = () => this.options.saga.handle(decoded);
      // The saga's log lines for this order carry the correlation id of the request that started it.
      await logContext.run({ correlationId: decoded.metadata.correlationId }, () =>
        this.options.serialize ? this.options.serialize(decoded.data.orderId, step) : step(),
      );
      message.ack();
      this.options.afterEvent?.(event);
    } catch (error) {
      const delay = redeliverLater(message);
      this.options.logger.warn({ err: error, seq: message.seq, eventId: event?.eventId, type: event?.type, correlationId: event?.metadata.correlationId, delay }, 'saga step failed; redelivering');
    }
  }
}
