import type { Pool } from 'pg';
import type { Lease, LeaseFence, ViewLeases } from './view-store';

const LEASE_COLUMNS = `name, owner, token::int AS token, acquired_at AS "acquiredAt", renewed_at AS "renewedAt", expires_at AS "expiresAt"`;

/**
 * Leases as rows of view_leases, timed by the database's clock alone. A claim is one
 * conditional upsert (free or expired rows only), so two replicas can never both win it;
 * PostgresViewStore.commit checks the row in the commit's own statement (fenceSql).
 */
export class PostgresViewLeases implements ViewLeases {
  constructor(private readonly pool: Pool) {}

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    const { rows } = await this.pool.query<Lease>(
      `INSERT INTO view_leases AS l (name, owner, token, acquired_at, renewed_at, expires_at)
       VALUES ($1, $2, 1, now(), now(), now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = l.token + 1, acquired_at = now(),
         renewed_at = now(), expires_at = excluded.expires_at
       WHERE l.expires_at <= now()
       RETURNING ${LEASE_COLUMNS}`,
      [name, owner, ttlMs],
    );
    return rows[0];
  }

  async renewLease(fence: LeaseFence, owner: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE view_leases SET renewed_at = now(), expires_at = now() + $4 * interval '1 millisecond'
        WHERE name = $1 AND token = $2 AND owner = $3 AND expires_at > now()`,
      [fence.name, fence.token, owner, ttlMs],
    );
    return rowCount === 1;
  }

  async releaseLease(fence: LeaseFence, owner: string): Promise<void> {
    await this.pool.query(
      'UPDATE view_leases SET expires_at = now() WHERE name = $1 AND token = $2 AND owner = $3 AND expires_at > now()',
      [fence.name, fence.token, owner],
    );
  }

  async heartbeat(name: string, owner: string, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO view_leases AS l (name, owner, token, acquired_at, renewed_at, expires_at)
       VALUES ($1, $2, 1, now(), now(), now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, renewed_at = now(), expires_at = excluded.expires_at,
         token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE l.token + 1 END,
         acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE now() END`,
      [name, owner, ttlMs],
    );
  }

  async leases(): Promise<{ leases: Lease[]; now: Date }> {
    const [{ rows }, { rows: clock }] = await Promise.all([
      this.pool.query<Lease>(`SELECT ${LEASE_COLUMNS} FROM view_leases ORDER BY name`),
      this.pool.query<{ now: Date }>('SELECT now() AS now'),
    ]);
    return { leases: rows, now: clock[0].now };
  }
}

/**
 * The fence of a commit statement: a CTE that locks the writer's lease row while it is still
 * the writer's and unexpired (FOR SHARE: a concurrent claim waits for the commit, or the commit
 * sees the claim and finds no row). Every write of the statement runs only if the row was found.
 */
export function fenceSql(fence: LeaseFence, param: (value: unknown) => string): string {
  return `SELECT 1 FROM view_leases WHERE name = ${param(fence.name)} AND token = ${param(fence.token)}::bigint
    AND expires_at > now() FOR SHARE`;
}
