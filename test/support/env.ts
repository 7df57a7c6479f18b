import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool, dropDatabase, migrate } from '../../src/postgres';

/** Base URLs of the real services; DATABASE_URL / NATS_URL override them. */
export const PG_BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A name no other test run (or a running quickstart) uses: lowercase, safe for databases and JetStream. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function databaseUrl(name: string): string {
  const url = new URL(PG_BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A new, migrated PostgreSQL database for one test file; drop() removes it. */
export async function freshDatabase(set: 'write-store' | 'read-store', prefix = 'cvt'): Promise<TestDatabase> {
  const url = databaseUrl(uniqueName(prefix));
  await migrate(url, set);
  const pool = createPool(url);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(url);
    },
  };
}
