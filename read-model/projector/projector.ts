import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  NatsConnection,
  nanos,
} from 'nats';
import { decodeEvent, orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { CheckpointNotice, checkpointSubject, consumerName, ensureEventStream, eventStreamName } from '../../src/nats';
import type { StoredDocument, ViewChange, ViewStore } from '../view-store/view-store';
import { applyBatch, BatchOutcome, documentsTouched } from './apply-batch';
import type { Projection } from './projection';
import { firstSequenceAfter } from './stream-position';

export interface ProjectorOptions {
  projection: Projection;
  store: ViewStore;
  nc: NatsConnection;
  namespace: string;
  logger: Logger;
  batchSize?: number;
  /** Failed applies of one event before it is dead-lettered. */
  maxAttempts?: number;
  /** Test hook: a pause before each batch, to make the projector slow on purpose. */
  batchDelayMs?: number;
  /** Called after each committed batch (metrics, tests). */
  onBatch?: (outcome: BatchOutcome & { events: number; checkpoint: string }) => void;
}

/**
 * Runs one projection from its durable JetStream consumer: batches messages, applies
 * them with the projection's pure handlers, and commits view changes with the checkpoint
 * in one write. The checkpoint in the read store is the truth: on start the consumer is
 * (re)created at the first message after it, and any redelivery or gap restarts it there,
 * so events are always applied in stream order.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly consumer: string;
  private readonly stream: string;
  private jsm!: JetStreamManager;
  private js!: JetStreamClient;
  private messages?: ConsumerMessages;
  private buffer: JsMsg[] = [];
  private wake?: () => void;
  private running = false;
  private loop?: Promise<void>;
  private checkpointKey = ORIGIN_ORDER_KEY;
  /** The commit of the batch before (acks and announcements chained after it). */
  private committing: Promise<void> = Promise.resolve();
  /** Documents the batch being committed changes: newer than what the store holds until it lands. */
  private inFlight = new Map<string, Map<string, StoredDocument | null>>();
  private lastSeq?: number;

  constructor(private readonly options: ProjectorOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.consumer = consumerName(options.namespace, `projection-${options.projection.name}`);
    this.stream = eventStreamName(options.namespace);
  }

  get name(): string {
    return this.options.projection.name;
  }

  async start(): Promise<void> {
    const { store, projection, nc, namespace } = this.options;
    await store.init();
    for (const view of projection.views) await store.ensureCollection(view);
    this.jsm = await nc.jetstreamManager();
    this.js = nc.jetstream();
    await ensureEventStream(this.jsm, namespace);
    this.running = true;
    await this.subscribe();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await this.committing.catch(() => undefined);
  }

  private async subscribe(): Promise<void> {
    await this.messages?.close().catch(() => undefined);
    await this.committing;
    this.inFlight = new Map();
    this.buffer = [];
    this.lastSeq = undefined;
    this.checkpointKey = (await this.options.store.checkpoint(this.name))?.orderKey ?? ORIGIN_ORDER_KEY;
    const start = await firstSequenceAfter(this.jsm, this.stream, this.checkpointKey);
    await this.jsm.consumers.delete(this.stream, this.consumer).catch(() => undefined);
    await this.jsm.consumers.add(this.stream, {
      durable_name: this.consumer,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
      // Bounds what is in flight: the server stops delivering until a batch is acknowledged.
      max_ack_pending: this.batchSize * 4,
      ack_wait: nanos(60_000),
      filter_subject: `${this.options.namespace}.>`,
    });
    const consumer = await this.js.consumers.get(this.stream, this.consumer);
    this.messages = await consumer.consume({
      max_messages: this.batchSize * 2,
      callback: (message) => {
        this.buffer.push(message);
        this.wake?.();
      },
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.buffer.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.takeInOrder();
      if (!batch) {
        this.options.logger.warn({ projection: this.name }, 'out-of-order delivery: restarting consumer at checkpoint');
        await this.retrying('resubscribe', () => this.subscribe());
        continue;
      }
      try {
        if (batch.length) await this.process(batch);
      } catch (error) {
        if (this.running) throw error; // stopping: the uncommitted batch is redelivered next start
      }
    }
  }

  /** The next messages in stream order; undefined when a gap means delivery must restart. */
  private takeInOrder(): JsMsg[] | undefined {
    const batch: JsMsg[] = [];
    while (this.buffer.length && batch.length < this.batchSize) {
      const message = this.buffer.shift()!;
      const seq = message.info.streamSequence;
      if (this.lastSeq !== undefined && seq <= this.lastSeq) continue; // redelivered: already in hand
      if (this.lastSeq !== undefined && seq !== this.lastSeq + 1) return undefined;
      this.lastSeq = seq;
      batch.push(message);
    }
    return batch;
  }

  /**
   * Applies a batch while the previous one is still being committed (pipelining): documents
   * the in-flight batch changed are taken from it rather than from the store, and commits
   * (with their acks and announcements) still happen one after the other, in order.
   */
  private async process(messages: JsMsg[]): Promise<void> {
    const { projection, batchDelayMs } = this.options;
    if (batchDelayMs) await sleep(batchDelayMs);
    const last = messages[messages.length - 1];
    const all = messages.map((m) => decodeEvent(m.data));
    const events = all.filter((e) => orderKey(e.txId, e.position) > this.checkpointKey);
    const finalEvent = all[all.length - 1];
    const checkpointKey = orderKey(finalEvent.txId, finalEvent.position);
    this.checkpointKey = checkpointKey;
    const previous = this.committing;
    if (events.length === 0) {
      this.committing = previous.then(() => last.ack());
      return previous;
    }
    const overlay = this.inFlight;
    const loaded = await this.retrying('load', () => this.load(events, overlay), messages);
    const outcome = applyBatch(projection, events, loaded, { maxAttempts: this.maxAttempts });
    const changed = documentsOf(outcome.changes);
    this.inFlight = changed;
    this.committing = previous.then(async () => {
      await this.retrying('commit', () =>
        this.options.store.commit({
          projection: projection.name,
          changes: outcome.changes,
          deadLetters: outcome.deadLetters,
          checkpoint: {
            orderKey: checkpointKey,
            position: finalEvent.position,
            eventRecordedAt: new Date(finalEvent.recordedAt),
            pending: last.info.pending,
          },
        }),
      messages);
      last.ack();
      if (this.inFlight === changed) this.inFlight = new Map();
      this.announce(checkpointKey, finalEvent);
      for (const dead of outcome.deadLetters) {
        this.options.logger.error({ projection: this.name, eventId: dead.eventId, error: dead.error }, 'event dead-lettered');
      }
      this.options.onBatch?.({ ...outcome, events: events.length, checkpoint: checkpointKey });
    });
    // The next batch is prepared while this one commits; never more than one commit in flight.
    await previous;
  }

  /** Tells waiting readers (the query API) that the view now includes everything up to `key`. */
  private announce(key: string, event: RecordedEvent): void {
    const notice: CheckpointNotice = {
      projection: this.name,
      orderKey: key,
      position: event.position,
      eventRecordedAt: new Date(event.recordedAt).toISOString(),
    };
    try {
      this.options.nc.publish(checkpointSubject(this.options.namespace), JSON.stringify(notice));
    } catch {
      // Readers fall back to re-reading the checkpoint; a lost notice only delays them.
    }
  }

  private async load(
    events: RecordedEvent[],
    overlay: Map<string, Map<string, StoredDocument | null>>,
  ): Promise<Map<string, Map<string, StoredDocument>>> {
    const touched = documentsTouched(this.options.projection, events);
    const loaded = new Map<string, Map<string, StoredDocument>>();
    await Promise.all(
      [...touched].map(async ([collection, ids]) => {
        const pending = overlay.get(collection) ?? new Map<string, StoredDocument | null>();
        const fromStore = [...ids].filter((id) => !pending.has(id));
        const docs = fromStore.length ? await this.options.store.getMany(collection, fromStore) : new Map();
        for (const [id, doc] of pending) if (doc && ids.has(id)) docs.set(id, doc);
        loaded.set(collection, docs);
      }),
    );
    return loaded;
  }

  /** Retries store and NATS failures with capped exponential backoff, keeping messages leased. */
  private async retrying<T>(what: string, work: () => Promise<T>, inFlight: JsMsg[] = []): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!this.running && attempt > 1) throw error;
        const delay = Math.min(100 * 2 ** attempt, 5000);
        this.options.logger.warn({ projection: this.name, err: error, attempt, delay }, `${what} failed, retrying`);
        for (const message of inFlight) message.working();
        await sleep(delay);
      }
    }
  }
}

/** The documents a batch's changes leave behind, by collection (null: deleted). */
function documentsOf(changes: ViewChange[]): Map<string, Map<string, StoredDocument | null>> {
  const docs = new Map<string, Map<string, StoredDocument | null>>();
  for (const { collection, id, doc, applied } of changes) {
    if (!docs.has(collection)) docs.set(collection, new Map());
    docs.get(collection)!.set(id, doc ? { id, doc, applied } : null);
  }
  return docs;
}
