import type { Pool } from 'pg';
import { createPool, dropDatabase, migrate } from '../../src/postgres';
import { databaseUrl, uniqueName } from '../../bench/support/local-services';

// The service URLs and naming are shared with the benchmarks, which may not import test/.
export { databaseUrl, isolatedSystemEnv, NATS_URL, PG_BASE_URL, uniqueName } from '../../bench/support/local-services';

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
