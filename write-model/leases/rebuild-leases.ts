import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool } from 'pg';
import { LeaseHeldError, LeaseHolder, RebuildLease, RebuildLeases } from '../../src/contracts';

/** Both advisory-lock keys: one for every rebuild lease, one per namespace and projection. */
const LOCK_SQL = `hashtext('converge-rebuild'), hashtext($1::text || '/' || $2::text)`;

/**
 * Rebuild leases as PostgreSQL advisory locks on the write store, held by a connection of
 * their own: a second rebuild is refused at once, and the lease ends with the process that
 * holds it (Ctrl-C, SIGKILL, a lost connection), so no expiry is needed.
 */
export class PostgresRebuildLeases implements RebuildLeases {
  constructor(private readonly databaseUrl: string, private readonly pool: Pool, private readonly namespace: string) {}

  async acquire(projection: string): Promise<RebuildLease> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: `converge rebuild ${projection} (pid ${process.pid})`.slice(0, 63),
    });
    await client.connect();
    client.on('error', () => undefined); // a lost connection releases the lock; the next query reports it
    try {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_SQL}) AS locked`, [this.namespace, projection]);
      if (!rows[0].locked) throw new LeaseHeldError(projection, await this.holder(projection));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return {
      freezeLog: (timeoutMs) => this.freeze(client, timeoutMs),
      release: () => client.end().catch(() => undefined),
    };
  }

  async holder(projection: string): Promise<LeaseHolder | undefined> {
    const { rows } = await this.pool.query<{ application_name: string | null; backend_start: Date | null }>(
      `SELECT a.application_name, a.backend_start FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = hashtext('converge-rebuild')::oid AND l.objid = hashtext($1::text || '/' || $2::text)::oid
          AND l.objsubid = 2`,
      [this.namespace, projection],
    );
    if (!rows[0]) return undefined;
    return { holder: rows[0].application_name || 'another session', since: rows[0].backend_start ?? null };
  }

  /**
   * Takes the append marker and a transaction id and keeps its transaction open: every later
   * appender's events have a larger tx_id, and the relay only reads below the oldest appender
   * still running (event_log_horizon), so the published log stops at what is committed now.
   * Ready once every older appender has ended, i.e. the horizon has reached this transaction.
   */
  private async freeze(client: Client, timeoutMs: number): Promise<{ release(): Promise<void> }> {
    await client.query('BEGIN; SELECT take_append_marker()');
    const release = async () => {
      await client.query('ROLLBACK');
    };
    try {
      const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows: ready } = await this.pool.query<{ ready: boolean }>('SELECT event_log_horizon() >= $1::text::xid8 AS ready', [rows[0].xid]);
        if (ready[0].ready) return { release };
        if (Date.now() > deadline) {
          throw new Error(`appends older than the handover are still running after ${timeoutMs} ms; try again`);
        }
        await sleep(10);
      }
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
  }
}
