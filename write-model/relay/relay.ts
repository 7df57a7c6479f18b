import type { Pool } from 'pg';
import {
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type PubAck,
  type Status,
  type StoredMsg,
  type Subscription,
} from 'nats';
import { encodeEvent, H, RecordedEvent } from '../../src/contracts';
import { appendedSubject, ensureEventStream, eventStreamName } from '../../src/nats';
import type { Logger } from '../../src/logger';
import { EventStore } from '../event-store/event-store';
import { noRelayMetrics, type RelayCollector } from './relay-metrics';

/** A point in the relay's order (the log's (tx_id, position)). */
export interface RelayCursor {
  txId: string;
  position: number;
}

export interface RelayOptions {
  pool: Pool;
  nc: NatsConnection;
  namespace: string;
  logger?: Logger;
  /** Events read from the log and published (pipelined) per pass. */
  batchSize?: number;
  /**
   * Pause when the log has nothing new yet readable; small, since it bounds command-to-query
   * latency. With `appendSignals`, only while events are held back by an appending transaction.
   */
  idleDelayMs?: number;
  /**
   * Listen for append signals (write-model/event-store/append-signal.ts): a relay that found nothing
   * after its cursor then sleeps until one arrives, or `idlePollMs` passes, instead of polling every
   * `idleDelayMs`.
   */
  appendSignals?: boolean;
  /** With `appendSignals`: how often an idle relay looks for events no signal announced (default 100 ms). */
  idlePollMs?: number;
  /** Upper bound of the retry backoff while NATS or PostgreSQL is unreachable. */
  maxBackoffMs?: number;
  /** How often an idle relay checks that the stream still ends where it believes. */
  verifyIntervalMs?: number;
  /**
   * How often, at most, the relay's position is written to `relay_checkpoints` (status reports
   * only; default 250 ms): a write per pass would be a write transaction per event at low rates.
   */
  checkpointIntervalMs?: number;
  /** Time-out of each JetStream request (publish ack, stream info). */
  requestTimeoutMs?: number;
  /** Where publishes, failures and the connection state are reported (no-op by default). */
  metrics?: RelayCollector;
  /** Copies of the stream a JetStream cluster keeps (NATS_STREAM_REPLICAS); the relay sets it. */
  streamReplicas?: number;
}

export interface RelayStatus {
  running: boolean;
  /** The last event known to be in the stream; null until the relay has read the stream's tail. */
  published: RelayCursor | null;
  /** The stream sequence of that event's message. */
  streamSequence: number;
  /** Position of the last event in the log, in the relay's order. */
  head: number;
  /** Set while the relay is failing and backing off. */
  lastError?: string;
}

export const LOG_ORIGIN: RelayCursor = { txId: '0', position: 0 };

/** A publish that did not land where the relay expected it; the stream is resynced before the next pass. */
export class RelayPublishError extends Error {
  override name = 'RelayPublishError';
  constructor(readonly published: number, readonly attempted: number, readonly reason: string) {
    super(`published ${published} of ${attempted} events: ${reason}`);
  }
}

/**
 * The outbox relay: tails the event log in commit order and publishes every event to the
 * namespace's JetStream stream exactly once, in that order. The stream itself is the
 * resume point, so messages NATS acknowledged and then lost are republished from the log.
 */
export class Relay {
  private readonly store: EventStore;
  private readonly js: JetStreamClient;
  private readonly stream: string;
  private readonly batchSize: number;
  private readonly idleDelayMs: number;
  private readonly idlePollMs: number;
  private readonly maxBackoffMs: number;
  private readonly verifyIntervalMs: number;
  private readonly timeout: number;
  private jsm?: JetStreamManager;
  private cursor: RelayCursor | null = null;
  private lastSeq = 0;
  private resyncNeeded = true;
  private lastVerifiedAt = 0;
  private lastError?: Error;
  private readonly checkpointIntervalMs: number;
  private checkpointWrite?: Promise<void>;
  private checkpointTimer?: NodeJS.Timeout;
  private checkpointDirty = false;
  private checkpointWrittenAt = 0;
  private loop?: Promise<void>;
  private stopping = false;
  private wake?: () => void;
  private wakeOnSignal?: () => void;
  private connected = true;
  private connectionEvents?: AsyncIterable<Status>;
  private prefetched?: { after: RelayCursor; events: Promise<RecordedEvent[]> };
  /** The last read found less than a batch: the next pass probes before paying for the horizon. */
  private caughtUp = false;
  /** The last pass's probe found nothing after the cursor: only a new append can give work. */
  private quiet = false;
  /** An append signal came since the last pass began (a sleep that follows returns at once). */
  private signalled = false;
  private signals?: Subscription;
  private readonly metrics: RelayCollector;

  constructor(private readonly options: RelayOptions) {
    this.store = new EventStore(options.pool);
    this.timeout = options.requestTimeoutMs ?? 2_000;
    this.js = options.nc.jetstream({ timeout: this.timeout });
    this.stream = eventStreamName(options.namespace);
    this.batchSize = options.batchSize ?? 1_000;
    this.idleDelayMs = options.idleDelayMs ?? 5;
    this.idlePollMs = options.appendSignals ? (options.idlePollMs ?? 100) : this.idleDelayMs;
    this.maxBackoffMs = options.maxBackoffMs ?? 1_000;
    this.verifyIntervalMs = options.verifyIntervalMs ?? 1_000;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 250;
    this.metrics = options.metrics ?? noRelayMetrics;
  }

  /** Starts tailing in the background from the stream's tail; failures are retried, never thrown. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.connected = true;
    this.resyncNeeded = true;
    this.watchConnection();
    if (this.options.appendSignals) {
      this.signals = this.options.nc.subscribe(appendedSubject(this.options.namespace), { callback: () => this.signal() });
    }
    this.loop = this.run();
  }

  /** Stops after the batch in flight has been published (or has failed). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.signals?.unsubscribe();
    this.signals = undefined;
    await this.loop;
    this.loop = undefined;
    // The position published last is written before stop() returns.
    while (this.checkpointTimer || this.checkpointWrite) {
      if (this.checkpointTimer) this.writeCheckpoint();
      await this.checkpointWrite;
    }
    (this.connectionEvents as { stop?: () => void } | undefined)?.stop?.();
    this.connectionEvents = undefined;
  }

  /** The last event known to be in the stream (null until the stream's tail was read). */
  get publishedCursor(): RelayCursor | null {
    return this.cursor && { ...this.cursor };
  }

  /** Forces the next pass to re-read the stream's tail (an operator or test knows it changed). */
  requestResync(): void {
    this.resyncNeeded = true;
    this.wake?.();
  }

  /** One pass: resync if needed, then publish the next batch. Returns how many events were published. */
  async runOnce(): Promise<number> {
    // The client drops what is sent while it redials, so publishing now would only time out.
    if (!this.connected) throw new Error('NATS is disconnected');
    if (this.resyncNeeded) await this.resync();
    // A signal from now on may announce an event this pass's probe or read does not see.
    const signalled = this.signalled;
    this.signalled = false;
    // Caught up (the last read found less than a batch), the relay probes for a new event before
    // paying for the horizon (pg_locks and every appender's activity, about twice the probe's
    // PostgreSQL time): one index probe that cannot skip anything, since an answer of no only
    // means there is nothing to read yet. After a signal there is something: no probe.
    const quiet = this.caughtUp && !this.prefetched && !signalled && !(await this.store.hasEventsAfter(this.cursor!));
    this.quiet = quiet;
    const events = quiet ? [] : await this.read(this.cursor!);
    this.caughtUp = events.length < this.batchSize;
    if (!events.length) {
      await this.verifyTail();
      return 0;
    }
    // A full batch means a backlog: read the next one while this one is being published.
    if (events.length === this.batchSize) this.prefetch(events[events.length - 1]);
    await this.publish(events);
    this.recordCheckpoint();
    return events.length;
  }

  /**
   * The PostgreSQL checkpoint is for status reports only (the stream's tail is what the relay
   * trusts), so it is written off the publishing path: at most one write in flight, and at most
   * one every checkpointIntervalMs (stop() writes the last position at once).
   */
  private recordCheckpoint(): void {
    this.checkpointDirty = true;
    if (this.checkpointTimer || this.checkpointWrite) return;
    const wait = Math.max(0, this.checkpointWrittenAt + this.checkpointIntervalMs - Date.now());
    this.checkpointTimer = setTimeout(() => this.writeCheckpoint(), wait);
    this.checkpointTimer.unref();
  }

  private writeCheckpoint(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.checkpointDirty = false;
    this.checkpointWrittenAt = Date.now();
    const { txId, position } = this.cursor!;
    this.checkpointWrite = this.options.pool
      .query(
        `INSERT INTO relay_checkpoints (namespace, tx_id, position) VALUES ($1, $2::text::xid8, $3)
         ON CONFLICT (namespace) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()`,
        [this.options.namespace, txId, position],
      )
      .then(
        () => undefined,
        (error) => this.options.logger?.warn({ err: error }, 'relay checkpoint not recorded'),
      )
      .finally(() => {
        this.checkpointWrite = undefined;
        if (this.checkpointDirty) this.recordCheckpoint();
      });
  }

  async status(): Promise<RelayStatus> {
    const head = await this.store.head();
    return {
      running: Boolean(this.loop) && !this.stopping,
      published: this.cursor && { ...this.cursor },
      streamSequence: this.lastSeq,
      head: head.lastPosition,
      ...(this.lastError && { lastError: this.lastError.message }),
    };
  }

  private read(after: RelayCursor): Promise<RecordedEvent[]> {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched && prefetched.after.txId === after.txId && prefetched.after.position === after.position) {
      return prefetched.events;
    }
    return this.store.readAllAfter(after, this.batchSize);
  }

  private prefetch(last: RecordedEvent): void {
    const after = { txId: last.txId, position: last.position };
    const events = this.store.readAllAfter(after, this.batchSize);
    events.catch(() => undefined); // a failed prefetch surfaces when (and if) it is used
    this.prefetched = { after, events };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const published = await this.runOnce();
        if (published) this.metrics.published(published);
        if (failures) this.options.logger?.info({ after: failures }, 'relay recovered');
        failures = 0;
        this.lastError = undefined;
        // Nothing after the cursor: the next event comes with a signal. Events held back: poll for their turn.
        if (!published) await this.sleep(this.quiet ? this.idlePollMs : this.idleDelayMs, true);
      } catch (error) {
        this.resyncNeeded = true;
        this.lastError = error as Error;
        this.metrics.publishFailed();
        // Warn once per outage; the retries themselves are only worth a debug line.
        if (failures === 0) this.options.logger?.warn({ err: error }, 'relay failing; retrying with backoff');
        else this.options.logger?.debug({ err: error, failures }, 'relay retry failed');
        failures += 1;
        await this.sleep(Math.min(this.maxBackoffMs, 25 * 2 ** failures));
      }
    }
  }

  /** Tracks the connection: publishes wait for it, and a reconnect resyncs at once (the server may have lost messages). */
  private watchConnection(): void {
    const events = this.options.nc.status();
    this.connectionEvents = events;
    void (async () => {
      for await (const event of events) {
        if (event.type === Events.Disconnect) {
          this.connected = false;
          this.metrics.connection(false);
        }
        if (event.type === Events.Reconnect) {
          this.connected = true;
          this.metrics.connection(true);
          this.requestResync();
        }
      }
    })();
  }

  /**
   * Publishes the batch pipelined. Message i expects the stream's last sequence to be base + i,
   * so once one publish fails every later one fails too and nothing lands out of order.
   */
  private async publish(events: RecordedEvent[]): Promise<void> {
    const base = this.lastSeq;
    const acks = await Promise.allSettled(
      events.map((event, i) => {
        const message = encodeEvent(this.options.namespace, event);
        return this.js.publish(message.subject, message.data, {
          msgID: message.msgID,
          headers: message.headers,
          expect: { lastSequence: base + i },
        });
      }),
    );
    let landed = 0;
    while (landed < acks.length && isNext(acks[landed], base + landed + 1)) landed += 1;
    if (landed) {
      const last = events[landed - 1];
      this.cursor = { txId: last.txId, position: last.position };
      this.lastSeq = base + landed;
    }
    if (landed < events.length) {
      this.resyncNeeded = true;
      throw new RelayPublishError(landed, events.length, failureOf(acks[landed]));
    }
  }

  /** Continues after the stream's last message: JetStream may have lost acknowledged ones. */
  private async resync(): Promise<void> {
    this.jsm ??= await this.options.nc.jetstreamManager({ checkAPI: false, timeout: this.timeout });
    await ensureEventStream(this.jsm, this.options.namespace, { replicas: this.options.streamReplicas });
    const { state } = await this.jsm.streams.info(this.stream);
    const tail = state.messages ? await this.lastMessage(state.first_seq, state.last_seq) : undefined;
    const cursor = tail ? cursorOf(this.stream, tail) : LOG_ORIGIN;
    if (this.cursor && state.last_seq < this.lastSeq) {
      this.options.logger?.warn(
        { stream: this.stream, believed: this.lastSeq, actual: state.last_seq },
        'stream lost acknowledged messages; republishing them from the event log',
      );
    }
    // Expectations chain on the stream's last sequence, which survives deletion of its message.
    this.lastSeq = state.last_seq;
    this.cursor = cursor;
    this.resyncNeeded = false;
    this.lastVerifiedAt = Date.now();
    this.options.logger?.debug({ stream: this.stream, sequence: state.last_seq, cursor }, 'relay resynced');
  }

  /** While idle, notices a stream that ends elsewhere than believed (NATS restarted with a lost tail). */
  private async verifyTail(): Promise<void> {
    if (Date.now() - this.lastVerifiedAt < this.verifyIntervalMs || !this.jsm) return;
    this.lastVerifiedAt = Date.now();
    const { state } = await this.jsm.streams.info(this.stream);
    if (state.last_seq !== this.lastSeq) this.resyncNeeded = true;
  }

  private async lastMessage(firstSeq: number, lastSeq: number): Promise<StoredMsg | undefined> {
    // The newest sequence may belong to a deleted message; walk back to the newest one present.
    for (let seq = lastSeq; seq >= firstSeq; seq -= 1) {
      try {
        return await this.jsm!.streams.getMessage(this.stream, { seq });
      } catch (error) {
        if (!/no message found/i.test(String(error))) throw error;
      }
    }
    return undefined;
  }

  /** An appender committed events: end an idle sleep now, or skip the next one if a pass is under way. */
  private signal(): void {
    this.metrics.signalled();
    this.signalled = true;
    this.wakeOnSignal?.();
  }

  /** `idle`: a signal ends it too (a failure's backoff runs its course, whatever commands come meanwhile). */
  private sleep(ms: number, idle = false): Promise<void> {
    if (this.stopping || (idle && this.signalled)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = this.wakeOnSignal = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      if (idle) this.wakeOnSignal = done;
    });
  }
}

function isNext(ack: PromiseSettledResult<PubAck>, sequence: number): boolean {
  // A duplicate was not stored again, so the chain of expected sequences is broken after it.
  return ack.status === 'fulfilled' && !ack.value.duplicate && ack.value.seq === sequence;
}

function failureOf(ack: PromiseSettledResult<PubAck>): string {
  if (ack.status === 'rejected') return String(ack.reason);
  return ack.value.duplicate ? `duplicate of sequence ${ack.value.seq}` : `landed at sequence ${ack.value.seq}`;
}

function cursorOf(stream: string, message: StoredMsg): RelayCursor {
  const txId = message.header?.get(H.txId);
  const position = message.header?.get(H.position);
  if (!txId || !position) {
    throw new Error(`message ${message.seq} of stream ${stream} lacks ${H.txId}/${H.position} headers`);
  }
  return { txId, position: Number(position) };
}
