import { Client, Pool } from 'pg';

/** The advisory-lock keys of the relay's publishing lease: one per namespace. */
const LOCK_SQL = `hashtext('converge-relay'), hashtext($1::text)`;

/** The session holding the publishing lease, as PostgreSQL sees it. */
export interface RelayLeaseHolder {
  /** The holder's application_name: `converge relay <replica id>`. */
  holder: string;
  since: Date | null;
}

/** A relay's hold on publishing: lost when its connection ends (the process died, the network broke). */
export interface HeldRelayLease {
  /** Resolves when the lease is gone: the lock's connection failed or its check found it dead. */
  lost: Promise<void>;
  release(): Promise<void>;
}

/**
 * The relay's publishing lease: a PostgreSQL advisory lock on the write store, held by a
 * connection of its own. A standby waits in pg_advisory_lock, so it takes over the moment the
 * holder's session ends (a killed process's socket closes at once; a vanished host's session
 * ends when the server's TCP keepalive gives up). Fencing needs no token here: the relay
 * publishes with JetStream's expected-last-message-id, so a stale holder cannot add a message
 * out of order or twice; it fails its publish and stands down.
 */
export class RelayLease {
  private waiting?: Client;

  constructor(
    private readonly options: { databaseUrl: string; namespace: string; replicaId: string; checkIntervalMs: number },
  ) {}

  /** Waits (as a standby) until this replica holds the lease; rejects if cancel() is called. */
  async acquire(): Promise<HeldRelayLease> {
    const { databaseUrl, namespace, replicaId, checkIntervalMs } = this.options;
    const client = new Client({ connectionString: databaseUrl, application_name: `converge relay ${replicaId}`.slice(0, 63) });
    let failed: (() => void) | undefined;
    const broken = new Promise<void>((resolve) => (failed = resolve));
    client.on('error', () => failed?.()); // a lost connection ends the lock; the holder must stop
    client.on('end', () => failed?.());
    await client.connect();
    this.waiting = client;
    try {
      await client.query(`SELECT pg_advisory_lock(${LOCK_SQL})`, [namespace]);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    } finally {
      this.waiting = undefined;
    }
    let released = false;
    // A silent network failure shows only on the next query: check the connection regularly.
    const check = setInterval(() => {
      client.query('SELECT 1').catch(() => failed?.());
    }, checkIntervalMs);
    check.unref();
    const lost = broken.then(() => clearInterval(check));
    return {
      lost: lost.then(() => undefined),
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(check);
        await client.end().catch(() => undefined);
      },
    };
  }

  /** Stops waiting for the lease (the process is stopping). */
  async cancel(): Promise<void> {
    await this.waiting?.end().catch(() => undefined);
  }
}

/** Who publishes now and who stands by, from pg_locks: for `converge status`. */
export async function relayLeaseHolders(pool: Pool, namespace: string): Promise<{ active?: RelayLeaseHolder; standbys: RelayLeaseHolder[] }> {
  const { rows } = await pool.query<{ application_name: string | null; backend_start: Date | null; granted: boolean }>(
    `SELECT a.application_name, a.backend_start, l.granted FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = hashtext('converge-relay')::oid AND l.objid = hashtext($1::text)::oid AND l.objsubid = 2
      ORDER BY a.backend_start`,
    [namespace],
  );
  const toHolder = (row: (typeof rows)[number]) => ({ holder: row.application_name || 'another session', since: row.backend_start ?? null });
  const active = rows.find((row) => row.granted);
  return { active: active && toHolder(active), standbys: rows.filter((row) => !row.granted).map(toHolder) };
}
