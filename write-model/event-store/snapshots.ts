import type { Pool } from 'pg';
import type { RecordedEvent } from '../../src/contracts';

/** Where a stream's last event sits in the log: what a no-op command's answer names. */
export interface EventLocation {
  txId: string;
  position: number;
  recordedAt: Date;
}

/** A decider's state after the first `streamVersion` events of a stream. */
export interface Snapshot {
  streamId: string;
  /** The decider's snapshot schema version the state was written with. */
  snapshotVersion: number;
  streamVersion: number;
  state: unknown;
  last: EventLocation;
}

/** A stream as a load needs it: the usable snapshot, if any, and the events after it. */
export interface StreamTail {
  snapshot?: Snapshot;
  /** The stream's version: its last event's, or the snapshot's when no event follows it. */
  version: number;
  events: RecordedEvent[];
}

/** A stream to load; without a snapshot version every event is read. */
export interface TailRequest {
  streamId: string;
  snapshotVersion?: number;
}

const SNAPSHOT = 0;
const EVENT = 1;

/** A row of readTails: a snapshot (kind SNAPSHOT) or an event after it. */
interface TailRow {
  kind: number;
  stream_id: string;
  stream_version: number;
  snapshot_version: number;
  data: unknown;
  tx_id: string;
  position: number;
  recorded_at: Date;
}

/**
 * For each stream, its snapshot of the requested version and the events after it, in one
 * statement (one MVCC snapshot, so the two always fit together). Snapshot rows carry the
 * state in `data` and their last event's place in the event columns.
 *
 * Both lookups are lateral subqueries kept apart from the join (OFFSET 0), so every plan reads
 * each wanted stream through its index. Joined plainly, the generic plan PostgreSQL switches a
 * prepared statement to after five runs hash-joined the whole events table: while the log was
 * small that plan looked cheapest and stayed, and every command then read the entire log.
 */
export async function readTails(
  pool: Pool,
  requests: TailRequest[],
  toEvent: (row: Record<string, unknown>) => RecordedEvent,
): Promise<Map<string, StreamTail>> {
  const { rows } = await pool.query<TailRow>({
    name: 'read-tails',
    text: `WITH wanted AS (
             SELECT * FROM unnest($1::text[], $2::int[]) AS w(stream_id, snapshot_version)
           ), usable AS (
             SELECT s.* FROM wanted w CROSS JOIN LATERAL (
               SELECT * FROM snapshots s WHERE s.stream_id = w.stream_id AND s.snapshot_version = w.snapshot_version OFFSET 0
             ) AS s
           )
           SELECT ${SNAPSHOT} AS kind, stream_id, stream_version, state AS data, last_position AS position,
                  last_tx_id::text AS tx_id, last_recorded_at AS recorded_at, snapshot_version,
                  NULL::uuid AS event_id, NULL::text AS stream_type, NULL::text AS event_type,
                  NULL::int AS schema_version, NULL::jsonb AS metadata
             FROM usable
           UNION ALL
           SELECT ${EVENT}, e.stream_id, e.stream_version, e.data, e.position, e.tx_id::text, e.recorded_at, NULL,
                  e.event_id, e.stream_type, e.event_type, e.schema_version, e.metadata
             FROM wanted w CROSS JOIN LATERAL (
               SELECT * FROM events
                WHERE events.stream_id = w.stream_id
                  AND events.stream_version > coalesce((SELECT u.stream_version FROM usable u WHERE u.stream_id = w.stream_id), 0)
               OFFSET 0
             ) AS e
           ORDER BY stream_id, kind, stream_version`,
    values: [requests.map((r) => r.streamId), requests.map((r) => r.snapshotVersion ?? null)],
  });
  const tails = new Map<string, StreamTail>(requests.map((r) => [r.streamId, { version: 0, events: [] }]));
  for (const row of rows) {
    const tail = tails.get(row.stream_id)!;
    tail.version = row.stream_version;
    if (row.kind === SNAPSHOT) {
      tail.snapshot = {
        streamId: row.stream_id,
        snapshotVersion: row.snapshot_version,
        streamVersion: row.stream_version,
        state: row.data,
        last: { txId: row.tx_id, position: row.position, recordedAt: row.recorded_at },
      };
    } else {
      tail.events.push(toEvent(row as unknown as Record<string, unknown>));
    }
  }
  return tails;
}

/**
 * Upserts a stream's snapshot. A newer one of the same schema is never replaced by an older one
 * (concurrent loads may save out of order); one of another schema version is always replaced.
 */
export async function saveSnapshot(pool: Pool, snapshot: Snapshot): Promise<void> {
  await pool.query({
    name: 'save-snapshot',
    text: `INSERT INTO snapshots (stream_id, snapshot_version, stream_version, state, last_tx_id, last_position, last_recorded_at)
           VALUES ($1, $2, $3, $4, $5::text::xid8, $6, $7)
           ON CONFLICT (stream_id) DO UPDATE SET
             snapshot_version = EXCLUDED.snapshot_version, stream_version = EXCLUDED.stream_version, state = EXCLUDED.state,
             last_tx_id = EXCLUDED.last_tx_id, last_position = EXCLUDED.last_position,
             last_recorded_at = EXCLUDED.last_recorded_at, taken_at = now()
           WHERE snapshots.snapshot_version <> EXCLUDED.snapshot_version OR snapshots.stream_version < EXCLUDED.stream_version`,
    values: [
      snapshot.streamId,
      snapshot.snapshotVersion,
      snapshot.streamVersion,
      JSON.stringify(snapshot.state),
      snapshot.last.txId,
      snapshot.last.position,
      snapshot.last.recordedAt,
    ],
  });
}
