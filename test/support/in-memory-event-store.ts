import { currentSchemaVersion, EventMetadata, NewEvent, RecordedEvent } from '../../src/contracts';
import {
  AppendResult,
  ConcurrencyError,
  DuplicateRequest,
  IdempotencyRecord,
  StoredOutcome,
  StreamAppend,
} from '../../write-model/event-store/event-store';
import type { Snapshot, StreamTail, TailRequest } from '../../write-model/event-store/snapshots';
import type { AggregateEvents } from '../../write-model/shared/aggregate-store';

/**
 * The event store's contract in memory, for unit specs of what sits on it: an optimistic
 * version per stream, atomic multi-stream appends, one stored outcome per idempotency key.
 * `beforeAppend` lets a spec slip another writer's commit in between load and append.
 */
export class InMemoryEventStore implements AggregateEvents {
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly outcomes = new Map<string, StoredOutcome<unknown>>();
  /** Stored as JSON, as the snapshots table does: a load gets a parsed copy, never the saved object. */
  private readonly snapshots = new Map<string, string>();
  /** Every snapshot saved, in order. */
  readonly savedSnapshots: Snapshot[] = [];
  private position = 0;
  private txId = 0;
  /** Every append asked for, committed or refused. */
  readonly appendCalls: StreamAppend[][] = [];
  /** Runs before each append is checked (another process committing first), until cleared. */
  beforeAppend: (() => void) | undefined;

  /** Commits events directly: a stream's history, or another writer getting in first. */
  commit(streamId: string, streamType: string, events: NewEvent[], metadata: EventMetadata = { correlationId: 'other' }) {
    const expectedVersion = this.version(streamId);
    return this.write([{ streamId, streamType, expectedVersion, events }], metadata);
  }

  version(streamId: string): number {
    return this.streams.get(streamId)?.length ?? 0;
  }

  async readStream(streamId: string): Promise<{ version: number; events: RecordedEvent[] }> {
    const events = [...(this.streams.get(streamId) ?? [])];
    return { version: events.length, events };
  }

  async readStreams(streamIds: string[]): Promise<Map<string, { version: number; events: RecordedEvent[] }>> {
    return new Map(await Promise.all(streamIds.map(async (id) => [id, await this.readStream(id)] as const)));
  }

  async readTails(requests: TailRequest[]): Promise<Map<string, StreamTail>> {
    return new Map(
      requests.map(({ streamId, snapshotVersion }) => {
        const events = this.streams.get(streamId) ?? [];
        const stored = this.snapshot(streamId);
        const snapshot = stored && stored.snapshotVersion === snapshotVersion ? stored : undefined;
        const after = events.slice(snapshot?.streamVersion ?? 0);
        return [streamId, { ...(snapshot && { snapshot }), version: events.length, events: after }] as const;
      }),
    );
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.savedSnapshots.push(snapshot);
    const stored = this.snapshot(snapshot.streamId);
    // As in the real store: never an older one over a newer one of the same schema version.
    if (stored && stored.snapshotVersion === snapshot.snapshotVersion && stored.streamVersion >= snapshot.streamVersion) return;
    this.snapshots.set(snapshot.streamId, JSON.stringify(snapshot));
  }

  /** The stored snapshot of a stream, whatever its schema version (a spec may plant one). */
  snapshot(streamId: string): Snapshot | undefined {
    const stored = this.snapshots.get(streamId);
    if (!stored) return undefined;
    const snapshot = JSON.parse(stored) as Snapshot;
    return { ...snapshot, last: { ...snapshot.last, recordedAt: new Date(snapshot.last.recordedAt) } };
  }

  /** Plants a snapshot as another version of the code might have left it. */
  plantSnapshot(snapshot: Snapshot): void {
    this.snapshots.set(snapshot.streamId, JSON.stringify(snapshot));
  }

  async storedOutcome<T>(scope: string, key: string): Promise<StoredOutcome<T> | undefined> {
    return this.outcomes.get(`${scope}\u0000${key}`) as StoredOutcome<T> | undefined;
  }

  async append<R = unknown>(
    streams: StreamAppend[],
    options: { metadata: EventMetadata; idempotency?: IdempotencyRecord; response?: (result: AppendResult) => R },
  ): Promise<AppendResult> {
    this.appendCalls.push(streams);
    this.beforeAppend?.();
    const { idempotency, response } = options;
    return this.write(streams, options.metadata, (appended) => {
      if (!idempotency) return;
      const key = `${idempotency.scope}\u0000${idempotency.key}`;
      // As in the real store: the versions are claimed first, then a key taken meanwhile undoes it all.
      if (this.outcomes.has(key)) throw new DuplicateRequest(idempotency.key);
      // Stored as JSON, as the idempotency_keys table does: a replay answers the parsed copy.
      const stored = JSON.parse(JSON.stringify(response ? response(appended) : appended));
      this.outcomes.set(key, { requestHash: idempotency.requestHash, response: stored });
    });
  }

  /** Checks every stream's version, then commits all events in one transaction (`alongside` may still refuse it). */
  private write(streams: StreamAppend[], metadata: EventMetadata, alongside?: (result: AppendResult) => void): AppendResult {
    for (const stream of streams) {
      const actual = this.version(stream.streamId);
      if (actual !== stream.expectedVersion) throw new ConcurrencyError(stream.streamId, stream.expectedVersion, actual);
    }
    const txId = String(++this.txId);
    const events = streams.flatMap((stream) =>
      stream.events.map(
        (event, index): RecordedEvent => ({
          position: ++this.position,
          txId,
          eventId: `event-${this.position}`,
          streamId: stream.streamId,
          streamType: stream.streamType,
          streamVersion: stream.expectedVersion + index + 1,
          type: event.type,
          schemaVersion: currentSchemaVersion[event.type] ?? 1,
          data: event.data,
          metadata,
          recordedAt: new Date(Date.UTC(2026, 2, 2, 10, 0, 0, this.position)),
        }),
      ),
    );
    const result: AppendResult = {
      versions: Object.fromEntries(
        streams.filter((s) => s.events.length).map((s) => [s.streamId, s.expectedVersion + s.events.length]),
      ),
      events,
      txId,
      lastPosition: events.length ? events[events.length - 1].position : 0,
    };
    alongside?.(result);
    for (const event of events) {
      this.streams.set(event.streamId, [...(this.streams.get(event.streamId) ?? []), event]);
    }
    return result;
  }
}
