import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import {
  currentSchemaVersion,
  EventMetadata,
  NewEvent,
  RecordedEvent,
  upcast,
} from '../../src/contracts';
import type { AppendSignal } from './append-signal';
import { ConcurrencyError, IdempotencyKeyReusedError } from './errors';
import { readTails, saveSnapshot, Snapshot, StreamTail, TailRequest } from './snapshots';

export interface StreamAppend {
  streamId: string;
  streamType: string;
  /** The version the command was decided against; 0 means the stream must not exist yet. */
  expectedVersion: number;
  /** Empty: only check that the stream is still at expectedVersion (a guarded read). */
  events: NewEvent[];
}

export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: string;
}

export interface AppendResult {
  /** New version per appended stream. */
  versions: Record<string, number>;
  events: RecordedEvent[];
  /** The appending transaction; with lastPosition it locates the write in the relay's order. */
  txId: string;
  lastPosition: number;
}

export interface StoredOutcome<T> {
  requestHash: string;
  response: T;
}

const EVENT_COLUMNS = `position, tx_id::text AS tx_id, event_id, stream_id, stream_type, stream_version,
  event_type, schema_version, data, metadata, recorded_at`;

/** A row of EVENT_COLUMNS. */
export interface EventRow {
  position: number;
  tx_id: string;
  event_id: string;
  stream_id: string;
  stream_type: string;
  stream_version: number;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

type VersionRow = { version: number };

/**
 * The write store: streams of events with an optimistic version per stream.
 * An append is one transaction; a lost race is a ConcurrencyError, never a lost update.
 */
export class EventStore {
  /** `signal`: told after every append that committed events (wakes an idle relay). */
  constructor(
    private readonly pool: Pool,
    private readonly signal?: Pick<AppendSignal, 'appended'>,
  ) {}

  async readStream(streamId: string): Promise<{ version: number; events: RecordedEvent[] }> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'read-stream',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      values: [streamId],
    });
    const events = rows.map(toRecordedEvent);
    return { version: events.length ? events[events.length - 1].streamVersion : 0, events };
  }

  /** Several streams in one round trip (e.g. every product an order names). */
  async readStreams(streamIds: string[]): Promise<Map<string, { version: number; events: RecordedEvent[] }>> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'read-streams',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version`,
      values: [streamIds],
    });
    const streams = new Map(streamIds.map((id) => [id, { version: 0, events: [] as RecordedEvent[] }]));
    for (const event of rows.map(toRecordedEvent)) {
      const stream = streams.get(event.streamId)!;
      stream.events.push(event);
      stream.version = event.streamVersion;
    }
    return streams;
  }

  /** Each stream's snapshot of the requested version (if any) and the events after it, in one round trip. */
  readTails(requests: TailRequest[]): Promise<Map<string, StreamTail>> {
    return readTails(this.pool, requests, (row) => toRecordedEvent(row as unknown as EventRow));
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return saveSnapshot(this.pool, snapshot);
  }

  async streamVersion(streamId: string): Promise<number> {
    const { rows } = await this.pool.query<VersionRow>('SELECT version FROM streams WHERE stream_id = $1', [streamId]);
    return rows[0]?.version ?? 0;
  }

  appendToStream(
    streamId: string,
    streamType: string,
    events: NewEvent[],
    options: { expectedVersion: number; metadata: EventMetadata },
  ): Promise<AppendResult> {
    return this.append([{ streamId, streamType, expectedVersion: options.expectedVersion, events }], {
      metadata: options.metadata,
    });
  }

  /**
   * Appends to one or more streams atomically. With `idempotency`, the key is recorded in the
   * same transaction together with `response(result)`, so a retry finds exactly one outcome.
   */
  async append<R = unknown>(
    streams: StreamAppend[],
    options: {
      metadata: EventMetadata;
      idempotency?: IdempotencyRecord;
      response?: (result: AppendResult) => R;
    },
  ): Promise<AppendResult> {
    const [only] = streams;
    if (streams.length === 1 && only.events.length > 0 && !options.idempotency) {
      const appended = await this.appendInOneStatement(only, options.metadata);
      this.signal?.appended();
      return appended;
    }
    const client = await this.pool.connect();
    try {
      // The marker before anything that takes a transaction id (a guarded read's FOR SHARE does).
      await client.query('BEGIN; SELECT take_append_marker()');
      const versions: Record<string, number> = {};
      for (const stream of streams) {
        versions[stream.streamId] = await this.claimVersion(client, stream);
      }
      const rows = streams.flatMap((stream) =>
        stream.events.map((event, index) => ({ stream, event, version: stream.expectedVersion + index + 1 })),
      );
      const events = rows.length ? await insertEvents(client, rows, options.metadata) : [];
      const txId = events[0]?.txId ?? (await client.query<{ tx: string }>('SELECT pg_current_xact_id()::text AS tx')).rows[0].tx;
      const result: AppendResult = {
        versions: Object.fromEntries(
          streams.filter((s) => s.events.length).map((s) => [s.streamId, versions[s.streamId]]),
        ),
        events,
        txId,
        lastPosition: events.length ? events[events.length - 1].position : 0,
      };
      if (options.idempotency) {
        const { scope, key, requestHash } = options.idempotency;
        const response = options.response ? options.response(result) : result;
        const inserted = await client.query(
          `INSERT INTO idempotency_keys (scope, key, request_hash, response) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [scope, key, requestHash, JSON.stringify(response)],
        );
        if (!inserted.rowCount) {
          // A concurrent request with the same key won; ours must leave no trace.
          await client.query('ROLLBACK');
          throw new DuplicateRequest(key);
        }
      }
      await client.query('COMMIT');
      if (events.length) this.signal?.appended();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The common append (one stream, no idempotency key) as a single statement: claim and insert together. */
  private async appendInOneStatement(stream: StreamAppend, metadata: EventMetadata): Promise<AppendResult> {
    const target = stream.expectedVersion + stream.events.length;
    const claim =
      stream.expectedVersion === 0
        ? {
            name: 'new-stream',
            sql: 'INSERT INTO streams (stream_id, stream_type, version) VALUES ($9, $10, $11) ON CONFLICT DO NOTHING RETURNING 1',
            params: [stream.streamId, stream.streamType, target],
          }
        : {
            name: 'next-version',
            sql: 'UPDATE streams SET version = $10 WHERE stream_id = $9 AND version = $11 RETURNING 1',
            params: [stream.streamId, target, stream.expectedVersion],
          };
    const rows = stream.events.map((event, index) => ({ stream, event, version: stream.expectedVersion + index + 1 }));
    const events = await insertEvents(this.pool, rows, metadata, claim);
    if (events.length === 0) {
      throw new ConcurrencyError(stream.streamId, stream.expectedVersion, await this.streamVersion(stream.streamId));
    }
    return {
      versions: { [stream.streamId]: target },
      events,
      txId: events[0].txId,
      lastPosition: events[events.length - 1].position,
    };
  }

  /** The outcome stored for an idempotency key, or undefined if the key is new. */
  async storedOutcome<T>(scope: string, key: string): Promise<StoredOutcome<T> | undefined> {
    const { rows } = await this.pool.query<{ request_hash: string; response: T }>(
      'SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [scope, key],
    );
    return rows[0] ? { requestHash: rows[0].request_hash, response: rows[0].response } : undefined;
  }

  /**
   * Events in the relay's order after (txId, position), only from transactions that can no
   * longer commit or roll back: every appending transaction below the horizon has ended, so a
   * sequence value taken by a slow transaction is never skipped, and a rolled-back one is never
   * waited for. Transactions that do not append (another database, another table) do not count.
   */
  async readAllAfter(
    after: { txId: string; position: number },
    limit: number,
    /** Only these event types (the others are skipped without being read); all when absent. */
    types?: string[],
  ): Promise<RecordedEvent[]> {
    const horizon = await this.horizon();
    const { rows } = await this.pool.query({
      name: 'read-all-after',
      text: `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (tx_id, position) > ($1::text::xid8, $2::bigint)
         AND tx_id < $5::text::xid8
         AND ($4::text[] IS NULL OR event_type = ANY($4::text[]))
       ORDER BY events.tx_id, events.position
       LIMIT $3`,
      values: [after.txId, after.position, limit, types ?? null, horizon],
    });
    return rows.map(toRecordedEvent);
  }

  /**
   * Whether any committed event lies after (txId, position): one index probe, far cheaper than
   * the horizon (which reads the lock table and the backends' activity). An idle relay asks
   * this first; an answer of no cannot skip anything, it only means there is nothing to publish yet.
   */
  async hasEventsAfter(after: { txId: string; position: number }): Promise<boolean> {
    // Not EXISTS (...): a prepared statement is planned generically after five runs, and the
    // generic plan of that EXISTS scans the whole table when nothing comes after (the idle case).
    // The first row in the relay's order can only be read from the index.
    const { rows } = await this.pool.query({
      name: 'has-events-after',
      text: 'SELECT 1 FROM events WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) ORDER BY tx_id, position LIMIT 1',
      values: [after.txId, after.position],
    });
    return rows.length > 0;
  }

  /**
   * The log's read horizon: every appending transaction with a smaller id has ended (see
   * event_log_horizon in the migrations). A statement of its own, taken before the read it bounds.
   */
  async horizon(): Promise<string> {
    const { rows } = await this.pool.query<{ horizon: string }>({ name: 'event-log-horizon', text: 'SELECT event_log_horizon()::text AS horizon' });
    return rows[0].horizon;
  }

  /**
   * The last event in the relay's order and the log's size (for status and lag). Not
   * max(position): a transaction that took its id first may take the larger position, so
   * a view that has applied everything ends at the last event in (tx_id, position) order.
   */
  async head(): Promise<{ lastPosition: number; lastTxId: string; count: number }> {
    const { rows } = await this.pool.query<{ position: number | null; tx_id: string | null; count: number }>(
      `SELECT last.position, last.tx_id, (SELECT count(*) FROM events)::bigint AS count
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (SELECT position, tx_id::text AS tx_id FROM events ORDER BY events.tx_id DESC, events.position DESC LIMIT 1) AS last ON true`,
    );
    return { lastPosition: Number(rows[0].position ?? 0), lastTxId: rows[0].tx_id ?? '0', count: Number(rows[0].count) };
  }

  private async claimVersion(client: PoolClient, stream: StreamAppend): Promise<number> {
    const target = stream.expectedVersion + stream.events.length;
    if (stream.events.length === 0) {
      const { rows } = await client.query<VersionRow>('SELECT version FROM streams WHERE stream_id = $1 FOR SHARE', [
        stream.streamId,
      ]);
      const actual = rows[0]?.version ?? 0;
      if (actual !== stream.expectedVersion) throw new ConcurrencyError(stream.streamId, stream.expectedVersion, actual);
      return actual;
    }
    const claimed =
      stream.expectedVersion === 0
        ? await client.query(
            `INSERT INTO streams (stream_id, stream_type, version) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
            [stream.streamId, stream.streamType, target],
          )
        : await client.query('UPDATE streams SET version = $3 WHERE stream_id = $1 AND version = $2', [
            stream.streamId,
            stream.expectedVersion,
            target,
          ]);
    if (!claimed.rowCount) {
      const { rows } = await client.query<VersionRow>('SELECT version FROM streams WHERE stream_id = $1', [stream.streamId]);
      throw new ConcurrencyError(stream.streamId, stream.expectedVersion, rows[0]?.version ?? 0);
    }
    return target;
  }
}

/** Thrown inside append when a concurrent request committed the same idempotency key first. */
export class DuplicateRequest extends Error {
  override name = 'DuplicateRequest';
  constructor(readonly key: string) {
    super(`a request with idempotency key ${key} committed first`);
  }
}

export { ConcurrencyError, IdempotencyKeyReusedError };

/**
 * Inserts the events in one statement. With `claim` (a version claim on the streams table,
 * parameters from $9), the insert happens only if the claim returned a row: the whole
 * append is then one autocommit statement, a single round trip.
 */
async function insertEvents(
  client: Pick<PoolClient, 'query'>,
  rows: { stream: StreamAppend; event: NewEvent; version: number }[],
  metadata: EventMetadata,
  claim?: { name: string; sql: string; params: unknown[] },
): Promise<RecordedEvent[]> {
  const ids = rows.map(() => randomUUID());
  // Most appends carry one event: as plain parameters, neither pg nor PostgreSQL builds and parses arrays for it.
  const one = rows.length === 1;
  const source = one
    ? 'SELECT $1::uuid, $2::text, $3::text, $4::int, $5::text, $6::int, $7::jsonb, $8::jsonb'
    : 'SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])';
  const column = <T>(value: (row: (typeof rows)[number], index: number) => T): T | T[] => (one ? value(rows[0], 0) : rows.map(value));
  const { rows: inserted } = await client.query<Pick<EventRow, 'position' | 'tx_id' | 'recorded_at'>>({
    // Named: each connection prepares the statement once instead of parsing and planning it per append.
    name: `append-${one ? 'one' : 'many'}-${claim?.name ?? 'events'}`,
    text: `${claim ? `WITH claim AS (${claim.sql}) ` : ''}
     INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
     ${source}
     ${claim ? 'WHERE EXISTS (SELECT 1 FROM claim)' : ''}
     RETURNING position, tx_id::text AS tx_id, recorded_at`,
    values: [
      column((_, i) => ids[i]),
      column((r) => r.stream.streamId),
      column((r) => r.stream.streamType),
      column((r) => r.version),
      column((r) => r.event.type),
      column((r) => currentSchemaVersion[r.event.type] ?? 1),
      column((r) => JSON.stringify(r.event.data)),
      column(() => JSON.stringify(metadata)),
      ...(claim?.params ?? []),
    ],
  });
  if (inserted.length !== rows.length) return [];
  return rows.map((r, i) => ({
    position: inserted[i].position,
    txId: inserted[i].tx_id,
    eventId: ids[i],
    streamId: r.stream.streamId,
    streamType: r.stream.streamType,
    streamVersion: r.version,
    type: r.event.type,
    schemaVersion: currentSchemaVersion[r.event.type] ?? 1,
    data: r.event.data,
    metadata,
    recordedAt: inserted[i].recorded_at,
  }));
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return upcast({
    position: row.position,
    txId: row.tx_id,
    eventId: row.event_id,
    streamId: row.stream_id,
    streamType: row.stream_type,
    streamVersion: row.stream_version,
    type: row.event_type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  });
}
