import type { NatsConnection } from 'nats';
import { ConsistencyToken, orderKey } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import { CheckpointNotice, checkpointSubject, eventStreamName, projectionConsumerName } from '../../src/nats';
import type { Checkpoint, ViewStore } from '../view-store/view-store';

/** Re-read of the checkpoint while waiting, in case a notice was lost (NATS down): slow, never a tight loop. */
const RECHECK_MS = 250;
const CONSUMER_INFO_TTL_MS = 200;
/** A checkpoint learnt from a notice or read from the store is trusted this long before re-reading it. */
const CHECKPOINT_TTL_MS = 1_000;

interface Waiter {
  key: string;
  resolve: () => void;
}

/**
 * How fresh each view is, and waiting for a write to reach one. Projectors announce every
 * committed checkpoint on core NATS; a reader with a consistency token waits for the announce
 * that covers it (bounded), instead of polling the read store.
 */
export class ViewFreshness {
  private readonly known = new Map<string, string>();
  private readonly latest = new Map<string, { at: number; checkpoint: Checkpoint }>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly consumerInfo = new Map<string, { at: number; pending: Promise<number | undefined> }>();

  private nc?: NatsConnection;

  constructor(
    private readonly store: ViewStore,
    private readonly namespace: string,
    private readonly logger?: Logger,
  ) {}

  /** Starts listening to checkpoint notices; until then (NATS unreachable) waits re-read the store. */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    nc.subscribe(checkpointSubject(this.namespace), {
      callback: (error, message) => {
        if (error) return;
        try {
          const notice = JSON.parse(message.string()) as CheckpointNotice;
          this.remember({
            projection: notice.projection,
            orderKey: notice.orderKey,
            position: notice.position,
            eventRecordedAt: new Date(notice.eventRecordedAt),
            pending: 0,
            updatedAt: new Date(),
          });
        } catch (cause) {
          this.logger?.warn({ err: cause }, 'unreadable checkpoint notice');
        }
      },
    });
  }

  /**
   * Waits until the projection has applied the token's write, at most `timeoutMs`.
   * True when it has; false on time-out (the caller answers with what it has, marked stale).
   */
  async waitFor(projection: string, token: ConsistencyToken, timeoutMs: number): Promise<boolean> {
    const key = orderKey(token.txId, token.position);
    if (await this.reached(projection, key)) return true;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const noticed = await this.notified(projection, key, Math.min(RECHECK_MS, deadline - Date.now()));
      if (noticed || (await this.reached(projection, key))) return true;
    }
    return false;
  }

  /**
   * The projection's checkpoint without a read-store query per request: projectors announce
   * each one; the store is asked only when none was heard for a second (NATS down, idle view).
   */
  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    const cached = this.latest.get(projection);
    if (cached && Date.now() - cached.at < CHECKPOINT_TTL_MS) return cached.checkpoint;
    const stored = await this.store.checkpoint(projection);
    if (stored) this.remember(stored);
    return stored ?? cached?.checkpoint;
  }

  /** Events the projection has not applied yet, from its JetStream consumer (cached briefly). */
  async pendingEvents(projection: string, checkpoint: Checkpoint | undefined): Promise<number> {
    if (!this.nc) return checkpoint?.pending ?? 0;
    const cached = this.consumerInfo.get(projection);
    if (cached && Date.now() - cached.at < CONSUMER_INFO_TTL_MS) return (await cached.pending) ?? checkpoint?.pending ?? 0;
    const pending = this.nc
      .jetstreamManager()
      .then((jsm) => jsm.consumers.info(eventStreamName(this.namespace), projectionConsumerName(this.namespace, projection)))
      .then((info) => info.num_pending + info.num_ack_pending)
      .catch(() => undefined);
    this.consumerInfo.set(projection, { at: Date.now(), pending });
    return (await pending) ?? checkpoint?.pending ?? 0;
  }

  /** The event stream as JetStream has it (what the relay has published), without the write store; undefined without NATS. */
  async eventStream(): Promise<{ lastSequence: number; lastPublishedAt: string | null; messages: number } | undefined> {
    if (!this.nc) return undefined;
    const info = await (await this.nc.jetstreamManager()).streams.info(eventStreamName(this.namespace));
    const last = info.state.last_seq > 0 ? info.state.last_ts : null;
    return { lastSequence: info.state.last_seq, lastPublishedAt: last, messages: info.state.messages };
  }

  private async reached(projection: string, key: string): Promise<boolean> {
    const known = this.known.get(projection);
    if (known && known >= key) return true;
    const checkpoint = await this.store.checkpoint(projection);
    if (checkpoint) this.remember(checkpoint);
    return !!checkpoint && checkpoint.orderKey >= key;
  }

  private remember(checkpoint: Checkpoint): void {
    const cached = this.latest.get(checkpoint.projection);
    if (!cached || cached.checkpoint.orderKey <= checkpoint.orderKey) {
      this.latest.set(checkpoint.projection, { at: Date.now(), checkpoint });
    }
    this.advance(checkpoint.projection, checkpoint.orderKey);
  }

  private notified(projection: string, key: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(projection) ?? new Set<Waiter>();
      this.waiters.set(projection, waiters);
      const waiter: Waiter = {
        key,
        resolve: () => {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        resolve(false);
      }, Math.max(0, timeoutMs));
      waiters.add(waiter);
    });
  }

  private advance(projection: string, key: string): void {
    const known = this.known.get(projection);
    if (known && known >= key) return;
    this.known.set(projection, key);
    for (const waiter of this.waiters.get(projection) ?? []) if (waiter.key <= key) waiter.resolve();
  }
}
