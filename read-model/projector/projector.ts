import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, JsMsg, NatsConnection, nanos } from 'nats';
import { decodeEvent, eventTypeOfSubject, orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import {
  CheckpointNotice,
  checkpointSubject,
  DurableConsumer,
  eventStreamName,
  eventSubjects,
  projectionConsumerName,
} from '../../src/nats';
import { LeaseFence, LeaseLostError, ViewChange, ViewStore } from '../view-store/view-store';
import type { BatchOutcome } from './apply-batch';
import type { Projection } from './projection';
import { noProjectorMetrics, type ProjectorCollector } from './projector-metrics';
import { firstSequenceAfter } from './stream-position';
import { BatchCheckpoint, ViewBatches } from './view-batches';

/**
 * How long the checkpoint of batches that changed no document may wait before it is written.
 * Readers learn it at once from the checkpoint notice; the write is only what a restart resumes
 * from, so a projection that handles few of the events commits a few times a second, not per batch.
 */
export const QUIET_CHECKPOINT_DELAY_MS = 250;

/** The outcome of a batch that changed no document (a fresh one: callbacks may keep it). */
const noChanges = (): BatchOutcome => ({ changes: [], deadLetters: [], applied: 0, skipped: 0 });

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
  /** Where batches, redeliveries and dead letters are counted (no-op by default). */
  metrics?: ProjectorCollector;
  /**
   * The projection's lease when replicas share the work (see ownership.ts): every commit
   * carries it, and the durable consumer is only deleted and recreated after it is renewed.
   */
  lease?: { fence: LeaseFence; confirm(): Promise<void>; lost(): void };
  /** How long the checkpoint of batches that changed no document may wait to be written (default QUIET_CHECKPOINT_DELAY_MS). */
  quietCheckpointDelayMs?: number;
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
  private readonly consumer: DurableConsumer;
  private buffer: JsMsg[] = [];
  private wake?: () => void;
  private running = false;
  private loop?: Promise<void>;
  private checkpointKey = ORIGIN_ORDER_KEY;
  private readonly batches: ViewBatches;
  /** Messages of batches not yet committed: kept leased while a store call is retried. */
  private readonly unacked = new Set<JsMsg>();
  private lastSeq?: number;
  /** The checkpoint of batches that changed nothing, not yet written (see deferCheckpoint). */
  private quiet?: { checkpoint: BatchCheckpoint; timer: NodeJS.Timeout };

  constructor(private readonly options: ProjectorOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.maxAttempts = options.maxAttempts ?? 5;
    const stream = eventStreamName(options.namespace);
    this.consumer = new DurableConsumer({
      nc: options.nc,
      namespace: options.namespace,
      durable: projectionConsumerName(options.namespace, options.projection.name),
      config: {
        ack_policy: AckPolicy.All,
        // Bounds what is in flight: the server stops delivering until a batch is acknowledged.
        max_ack_pending: this.batchSize * 4,
        ack_wait: nanos(60_000),
        filter_subject: eventSubjects(options.namespace),
      },
      maxMessages: this.batchSize * 2,
      logger: options.logger,
      startSequence: async () => {
        // Only the lease holder may recreate the shared durable consumer: a stale one would move it back.
        await options.lease?.confirm();
        return firstSequenceAfter(await options.nc.jetstreamManager(), stream, this.checkpointKey);
      },
    });
    this.batches = new ViewBatches({
      projection: options.projection,
      target: options.store,
      maxAttempts: this.maxAttempts,
      fence: options.lease?.fence,
      attempt: (what, work) => this.retrying(what, work),
    });
  }

  get name(): string {
    return this.options.projection.name;
  }

  async start(): Promise<void> {
    const { store, projection } = this.options;
    await store.init();
    for (const view of projection.views) await store.ensureCollection(view);
    this.running = true;
    await this.subscribe();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.consumer.close();
    await this.loop;
    await this.writeQuietCheckpoint();
    await this.batches.flush().catch(() => undefined);
  }

  /** (Re)starts delivery just after the checkpoint, the truth of what the view holds. */
  private async subscribe(): Promise<void> {
    await this.consumer.close();
    // Delivery restarts at the stored checkpoint, so the events a deferred one covered are read again.
    this.dropQuietCheckpoint();
    await this.batches.reset();
    this.unacked.clear();
    this.buffer = [];
    this.lastSeq = undefined;
    this.checkpointKey = (await this.options.store.checkpoint(this.name))?.orderKey ?? ORIGIN_ORDER_KEY;
    await this.consumer.open((message) => {
      this.buffer.push(message);
      this.wake?.();
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
        try {
          await this.retrying('resubscribe', () => this.subscribe());
        } catch (error) {
          if (error instanceof LeaseLostError) return this.leaseLost();
          throw error;
        }
        continue;
      }
      try {
        if (batch.length) await this.process(batch);
      } catch (error) {
        if (error instanceof LeaseLostError) return this.leaseLost();
        if (this.running) throw error; // stopping: the uncommitted batch is redelivered next start
      }
    }
  }

  /** The next messages in stream order; undefined when a gap means delivery must restart. */
  private takeInOrder(): JsMsg[] | undefined {
    const batch: JsMsg[] = [];
    let redelivered = 0;
    while (this.buffer.length && batch.length < this.batchSize) {
      const message = this.buffer.shift()!;
      const seq = message.info.streamSequence;
      if (this.lastSeq !== undefined && seq <= this.lastSeq) continue; // redelivered: already in hand
      if (this.lastSeq !== undefined && seq !== this.lastSeq + 1) return undefined;
      this.lastSeq = seq;
      if (message.info.redelivered) redelivered += 1;
      batch.push(message);
    }
    if (redelivered) (this.options.metrics ?? noProjectorMetrics).redelivered(this.name, redelivered);
    return batch;
  }

  /**
   * Applies a batch while the previous one is still being committed (the runtime serves the
   * documents that batch changed from memory); commits, with their acks and announcements,
   * still happen one after the other, in order. Only the events the projection handles are
   * decoded. A batch that changes no document is announced once the commits before it have
   * landed, and its checkpoint is written later (see QUIET_CHECKPOINT_DELAY_MS).
   */
  private async process(messages: JsMsg[]): Promise<void> {
    const { batchDelayMs } = this.options;
    if (batchDelayMs) await sleep(batchDelayMs);
    const started = performance.now();
    const last = messages[messages.length - 1];
    const lastEvent = decodeEvent(last.data);
    const checkpoint = ViewBatches.checkpointAfter([lastEvent], last.info.pending);
    for (const message of messages) this.unacked.add(message);
    const acknowledge = () => {
      last.ack();
      for (const message of messages) this.unacked.delete(message);
    };
    if (checkpoint.orderKey <= this.checkpointKey) {
      // Only events the checkpoint already covers (a redelivery): nothing to write.
      void this.batches.flush().then(acknowledge, () => undefined);
      return;
    }
    const events = this.handledAfterCheckpoint(messages, lastEvent);
    const previous = this.checkpointKey;
    this.checkpointKey = checkpoint.orderKey;
    const prepared = events.length ? await this.batches.prepare(events) : undefined;
    const report = (outcome: BatchOutcome) => {
      acknowledge();
      this.announce(checkpoint.orderKey, lastEvent, previous, outcome.changes);
      for (const dead of outcome.deadLetters) {
        this.options.logger.error({ projection: this.name, eventId: dead.eventId, error: dead.error }, 'event dead-lettered');
      }
      (this.options.metrics ?? noProjectorMetrics).batchCommitted(this.name, {
        events: messages.length,
        seconds: (performance.now() - started) / 1000,
        position: lastEvent.position,
        deadLetters: outcome.deadLetters.length,
      });
    };
    if (!prepared || (!prepared.outcome.changes.length && !prepared.outcome.deadLetters.length)) {
      // The view already is what these events make it: it covers them as soon as the commits before land.
      this.deferCheckpoint(checkpoint);
      const outcome = prepared?.outcome ?? noChanges();
      void this.batches.flush().then(
        () => report(outcome),
        () => undefined,
      );
      return;
    }
    this.dropQuietCheckpoint(); // this commit carries a later checkpoint
    const { outcome, committed } = await this.batches.enqueue(prepared, checkpoint);
    void committed.then(
      () => {
        report(outcome);
        this.options.onBatch?.({ ...outcome, events: events.length, checkpoint: checkpoint.orderKey });
      },
      (error) => {
        // A failed commit throws from the next apply and the batch is redelivered; a fenced one ends the run now.
        if (error instanceof LeaseLostError) this.leaseLost();
      },
    );
  }

  /** The batch's events of types the projection handles and the checkpoint does not cover, decoded; the rest are never parsed. */
  private handledAfterCheckpoint(messages: JsMsg[], lastEvent: RecordedEvent): RecordedEvent[] {
    const { handlers } = this.options.projection;
    const events: RecordedEvent[] = [];
    // Messages come in stream order, which is the log's order: once one is past the checkpoint, so is every later one.
    let pastCheckpoint = false;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      if (!Object.hasOwn(handlers, eventTypeOfSubject(message.subject))) continue;
      const event = i === messages.length - 1 ? lastEvent : decodeEvent(message.data);
      pastCheckpoint ||= orderKey(event.txId, event.position) > this.checkpointKey;
      if (pastCheckpoint) events.push(event);
    }
    return events;
  }

  /**
   * Remembers the checkpoint of a batch that changed nothing, to be written within
   * QUIET_CHECKPOINT_DELAY_MS unless a batch with changes commits a later one first. Until then
   * the stored checkpoint is older, which only means a restart reads those events again.
   */
  private deferCheckpoint(checkpoint: BatchCheckpoint): void {
    if (this.quiet) {
      this.quiet.checkpoint = checkpoint;
      return;
    }
    const timer = setTimeout(() => void this.writeQuietCheckpoint(), this.options.quietCheckpointDelayMs ?? QUIET_CHECKPOINT_DELAY_MS);
    timer.unref();
    this.quiet = { checkpoint, timer };
  }

  private dropQuietCheckpoint(): void {
    if (this.quiet) clearTimeout(this.quiet.timer);
    this.quiet = undefined;
  }

  /** Commits the deferred checkpoint (behind any commit in flight, under the lease like every commit). */
  private async writeQuietCheckpoint(): Promise<void> {
    const quiet = this.quiet;
    if (!quiet) return;
    this.dropQuietCheckpoint();
    const nothing = noChanges();
    try {
      await this.batches.commit({ outcome: nothing, loaded: new Map() }, quiet.checkpoint);
      this.options.onBatch?.({ ...nothing, events: 0, checkpoint: quiet.checkpoint.orderKey });
    } catch (error) {
      // Not written: the stored checkpoint stays where it was, which is only a longer replay after a restart.
      if (error instanceof LeaseLostError) this.leaseLost();
    }
  }

  /** Another replica owns the projection now: write nothing more, leave the consumer to it. */
  private leaseLost(): void {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    this.options.logger.warn({ projection: this.name }, 'commit refused: the projection lease is lost');
    this.options.lease?.lost();
  }

  /**
   * Tells the query API that the view now includes everything up to `key` (waiting readers
   * wake) and which documents changed on the way from `previous` (read caches invalidate them).
   */
  private announce(key: string, event: RecordedEvent, previous: string, changes: ViewChange[]): void {
    const notice: CheckpointNotice = {
      projection: this.name,
      orderKey: key,
      position: event.position,
      eventRecordedAt: new Date(event.recordedAt).toISOString(),
      previous,
      changed: changes.map((change) => [change.collection, change.id, change.applied]),
    };
    try {
      this.options.nc.publish(checkpointSubject(this.options.namespace), JSON.stringify(notice));
    } catch {
      // Readers fall back to re-reading the checkpoint; a lost notice only delays them.
    }
  }

  /** Retries store and NATS failures with capped exponential backoff, keeping messages leased. */
  private async retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof LeaseLostError) throw error; // retrying cannot win the lease back
        if (!this.running && attempt > 1) throw error;
        const delay = Math.min(100 * 2 ** attempt, 5000);
        this.options.logger.warn({ projection: this.name, err: error, attempt, delay }, `${what} failed, retrying`);
        for (const message of this.unacked) message.working();
        await sleep(delay);
      }
    }
  }
}
