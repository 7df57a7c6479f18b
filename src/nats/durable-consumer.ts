import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumerConfig, ConsumerEvents, ConsumerMessages, DeliverPolicy, JsMsg, NatsConnection } from 'nats';
import type { Logger } from '../logger';
import { ensureEventStream } from './event-stream';
import { eventStreamName } from './names';

export interface DurableConsumerOptions {
  nc: NatsConnection;
  namespace: string;
  /** The consumer's durable name (see names.ts). */
  durable: string;
  /** Its settings other than the name and, with `startSequence`, where it starts. */
  config: Partial<ConsumerConfig>;
  /** Messages pulled ahead. */
  maxMessages: number;
  logger: Logger;
  /**
   * Where a (re)created consumer starts; the consumer is then recreated at every open (a
   * projection restarting at its checkpoint). Absent: an existing consumer keeps its position.
   */
  startSequence?: () => Promise<number>;
}

/**
 * The one JetStream consumption loop of the system, used by the projections and the order
 * saga: creates the durable consumer, pulls with heartbeats (the client re-pulls when they
 * stop), and re-opens the pull, recreating the consumer if it is gone, whenever it ends while
 * still wanted (the server deleted the consumer, the stream was recreated). What to do with a
 * message — ack, redeliver later, or restart at a checkpoint — is the caller's.
 */
export class DurableConsumer {
  private pull?: ConsumerMessages;
  private opened = false;
  private failures = 0;

  constructor(private readonly options: DurableConsumerOptions) {}

  /** Creates the consumer and hands every message to `deliver`, in delivery order, until close(). */
  async open(deliver: (message: JsMsg) => void): Promise<void> {
    await this.close();
    await this.ensure();
    this.opened = true;
    this.failures = 0;
    await this.pullWith(deliver);
  }

  /** Stops pulling; messages already delivered and not acknowledged are redelivered later. */
  async close(): Promise<void> {
    this.opened = false;
    const pull = this.pull;
    this.pull = undefined;
    await pull?.close().catch(() => undefined);
  }

  private async pullWith(deliver: (message: JsMsg) => void): Promise<void> {
    const { nc, namespace, durable, maxMessages } = this.options;
    const consumer = await nc.jetstream().consumers.get(eventStreamName(namespace), durable);
    const pull = await consumer.consume({
      max_messages: maxMessages,
      callback: (message) => {
        this.failures = 0;
        deliver(message);
      },
    });
    this.pull = pull;
    void this.report(pull);
    void pull.closed().then((reason) => this.reopen(pull, deliver, reason));
  }

  /** The pull ended without close(): open it again, recreating the consumer if it is gone. */
  private async reopen(pull: ConsumerMessages, deliver: (message: JsMsg) => void, reason: unknown): Promise<void> {
    const { durable, logger } = this.options;
    while (this.opened && this.pull === pull) {
      this.failures += 1;
      const delay = Math.min(250 * 2 ** this.failures, 5000);
      logger.warn({ consumer: durable, reason: reason instanceof Error ? reason.message : undefined, delay }, 'consumption ended; re-opening');
      await sleep(delay);
      if (!this.opened || this.pull !== pull) return;
      try {
        await this.ensure();
        await this.pullWith(deliver);
        return;
      } catch (error) {
        reason = error;
      }
    }
  }

  private async ensure(): Promise<void> {
    const { nc, namespace, durable, config, startSequence } = this.options;
    const jsm = await nc.jetstreamManager();
    await ensureEventStream(jsm, namespace);
    const stream = eventStreamName(namespace);
    if (startSequence) {
      const start = await startSequence();
      await jsm.consumers.delete(stream, durable).catch(() => undefined);
      await jsm.consumers.add(stream, { ...config, durable_name: durable, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
      return;
    }
    const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (!existing) await jsm.consumers.add(stream, { ...config, durable_name: durable });
  }

  private async report(pull: ConsumerMessages): Promise<void> {
    for await (const status of await pull.status()) {
      if (status.type === ConsumerEvents.HeartbeatsMissed) this.options.logger.warn({ consumer: this.options.durable, status: status.data }, 'consumer heartbeats missed');
    }
  }
}

/** Asks for the message again after a delay that grows with its redeliveries (capped at 10 s). */
export function redeliverLater(message: JsMsg): number {
  const delay = Math.min(200 * 2 ** Math.min(message.info.redeliveryCount, 5), 10_000);
  message.nak(delay);
  return delay;
}
