import { AckPolicy, ConsumerMessages, DeliverPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { decodeEvent, H, ORDER_STREAM, RecordedOrderEvent } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { consumerName, ensureEventStream, eventStreamName } from '../../src/nats';
import type { OrderSaga } from './order-saga';

const MAX_CONCURRENT_ORDERS = 32;

/**
 * The order saga's durable JetStream consumer: each message is acknowledged after the saga
 * handled it; a failure is retried by redelivery with a growing delay. Every step is
 * idempotent, so a redelivery (or a crash before the ack) changes no outcome.
 */
export class SagaConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    private readonly options: {
      nc: NatsConnection;
      namespace: string;
      saga: OrderSaga;
      logger: Logger;
      /** Called after each handled event (the payment worker is woken by it). */
      afterEvent?: (event: RecordedOrderEvent) => void;
    },
  ) {}

  async start(): Promise<void> {
    const { nc, namespace } = this.options;
    const jsm = await nc.jetstreamManager();
    await ensureEventStream(jsm, namespace);
    const stream = eventStreamName(namespace);
    const durable = consumerName(namespace, 'order-saga');
    const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (!existing) {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${namespace}.${ORDER_STREAM}.>`,
        ack_wait: nanos(30_000),
        max_deliver: -1,
        max_ack_pending: 1000,
      });
    }
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    this.messages = await consumer.consume({ max_messages: 200 });
    this.loop = this.run(this.messages);
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  /**
   * Orders are independent: their events are handled concurrently (bounded), while the events
   * of one order are handled one after the other, in stream order.
   */
  private async run(messages: ConsumerMessages): Promise<void> {
    const chains = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    for await (const message of messages) {
      const orderId = message.headers?.get(H.streamId) ?? '';
      const next = (chains.get(orderId) ?? Promise.resolve()).then(() => this.handle(message));
      chains.set(orderId, next);
      inFlight.add(next);
      void next.then(() => {
        inFlight.delete(next);
        if (chains.get(orderId) === next) chains.delete(orderId);
      });
      if (inFlight.size >= MAX_CONCURRENT_ORDERS) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  private async handle(message: JsMsg): Promise<void> {
    const event = decodeEvent(message.data) as RecordedOrderEvent;
    try {
      await this.options.saga.handle(event);
      message.ack();
      this.options.afterEvent?.(event);
    } catch (error) {
      const delay = Math.min(200 * 2 ** Math.min(message.info.redeliveryCount, 5), 10_000);
      this.options.logger.warn({ err: error, eventId: event.eventId, type: event.type, delay }, 'saga step failed; redelivering');
      message.nak(delay);
    }
  }
}
