import type { Pool } from 'pg';
import { EventLog, parseOrderKey, RecordedEvent } from '../../src/contracts';
import { EventStore } from './event-store';

/** The rebuild's view of the PostgreSQL event log: the relay's horizon and order, rows mapped by the EventStore. */
export class PostgresEventLog implements EventLog {
  private readonly events: EventStore;

  constructor(private readonly pool: Pool) {
    this.events = new EventStore(pool);
  }

  /** The relay's horizon and order (EventStore.readAllAfter), optionally only some event types. */
  readAfter(afterKey: string, limit: number, types?: string[]): Promise<RecordedEvent[]> {
    return this.events.readAllAfter(parseOrderKey(afterKey), limit, types);
  }

  async countAfter(afterKey: string, types?: string[]): Promise<{ count: number; oldestRecordedAt: Date | null }> {
    const { txId, position } = parseOrderKey(afterKey);
    const { rows } = await this.pool.query<{ count: number; oldest: Date | null }>(
      `SELECT count(*)::bigint AS count, min(recorded_at) AS oldest FROM events
        WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) AND ($3::text[] IS NULL OR event_type = ANY($3::text[]))`,
      [txId, position, types ?? null],
    );
    return { count: rows[0].count, oldestRecordedAt: rows[0].oldest };
  }

  /** The relay's checkpoint for a namespace and the log's head, for `converge status`. */
  async relayProgress(namespace: string) {
    const { rows } = await this.pool.query<{ tx_id: string; position: number; updated_at: Date; behind: number }>(
      `SELECT r.tx_id::text AS tx_id, r.position, r.updated_at,
              (SELECT count(*) FROM events e WHERE (e.tx_id, e.position) > (r.tx_id, r.position))::bigint AS behind
         FROM relay_checkpoints r WHERE r.namespace = $1`,
      [namespace],
    );
    const head = await this.events.head();
    const row = rows[0];
    return {
      checkpoint: row ? { txId: String(row.tx_id), position: Number(row.position), updatedAt: row.updated_at } : null,
      head: { position: Number(head.lastPosition), events: Number(head.count) },
      behind: row ? Number(row.behind) : Number(head.count),
    };
  }
}
