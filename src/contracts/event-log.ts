import type { RecordedEvent } from './envelope';

/**
 * The event log as rebuild and verify read it: the write store's committed events in the
 * relay's order (order keys, see orderKey). A contract, so the read side stays free of
 * write-side code; the PostgreSQL implementation sits with the event store
 * (write-model/event-store/postgres-event-log.ts) and the CLI wires it in.
 */
export interface EventLog {
  /**
   * Final (committed, never-to-change) events after the order key, in relay order, at most
   * `limit`; only events of `types` when given (the others are skipped without being parsed).
   */
  readAfter(afterKey: string, limit: number, types?: string[]): Promise<RecordedEvent[]>;
  /** Events in the log after the key (only `types` when given), and when the oldest of them was recorded. */
  countAfter(afterKey: string, types?: string[]): Promise<{ count: number; oldestRecordedAt: Date | null }>;
}

/** Who holds a projection's rebuild lease. */
export interface LeaseHolder {
  /** What the holder calls itself, e.g. "converge rebuild product-catalog (pid 1234)". */
  holder: string;
  since: Date | null;
}

/** The exclusive right to rebuild one projection; it also ends when the holding process dies. */
export interface RebuildLease {
  /**
   * Stops the log's readable horizon from moving past what is committed now: the relay (which
   * reads the same horizon) publishes nothing newer until the returned release(). Resolves once
   * every older transaction has finished, so readAfter then returns everything below the fence.
   */
  freezeLog(timeoutMs: number): Promise<{ release(): Promise<void> }>;
  release(): Promise<void>;
}

export interface RebuildLeases {
  /** Takes the lease or throws LeaseHeldError at once (never waits for another rebuild). */
  acquire(projection: string): Promise<RebuildLease>;
  holder(projection: string): Promise<LeaseHolder | undefined>;
}

export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
  constructor(readonly projection: string, readonly heldBy?: LeaseHolder) {
    super(
      `a rebuild of ${projection} is already running` +
        (heldBy ? ` (lease held by ${heldBy.holder}${heldBy.since ? ` since ${heldBy.since.toISOString()}` : ''})` : '') +
        '; wait for it to finish or stop it (it resumes where it stopped)',
    );
  }
}
