import type { Pool } from 'pg';

/**
 * One order's saga steps at a time across process-manager replicas: a session advisory lock
 * per order on a small pool of its own (never the command pool, so holders cannot starve the
 * commands they wait for). A killed replica's connections close and its locks go with them.
 */
export class OrderLocks {
  constructor(private readonly pool: Pool, private readonly namespace: string) {}

  async withLock<T>(orderId: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let healthy = true;
    try {
      await client.query(`SELECT pg_advisory_lock(hashtext('converge-saga/' || $1::text), hashtext($2::text))`, [this.namespace, orderId]);
      return await work();
    } finally {
      await client
        .query(`SELECT pg_advisory_unlock(hashtext('converge-saga/' || $1::text), hashtext($2::text))`, [this.namespace, orderId])
        .catch(() => (healthy = false));
      // A connection whose unlock failed may still hold the lock: drop it rather than pool it.
      client.release(!healthy);
    }
  }
}
