import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths';
import { IDLE_MS } from './harness';

/**
 * Emmett's PostgreSQL event store, the baseline of the append and command-path benchmarks.
 * It lives in its own package (bench/emmett-baseline): its peer dependency commander@^12
 * conflicts with the root's commander@^14, so a root devDependency would break `npm ci`.
 */
export interface EmmettEventStore {
  appendToStream(
    streamName: string,
    events: { type: string; data: Record<string, unknown> }[],
    options?: { expectedStreamVersion?: bigint },
  ): Promise<{ nextExpectedStreamVersion: bigint }>;
  close(): Promise<void>;
}

interface PgPool {
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}

interface EmmettModules {
  getPostgreSQLEventStore: (connectionString: string, options?: { connectionOptions?: { pool: PgPool } }) => EmmettEventStore;
  /** Emmett's own copy of pg, so that the pool it is given is one it recognises. */
  Pool: new (config: { connectionString: string; max: number; idleTimeoutMillis: number }) => PgPool;
}

const DIR = 'bench/emmett-baseline';

let loaded: EmmettModules | undefined;

function load(): EmmettModules {
  if (loaded) return loaded;
  const dir = join(projectRoot(), DIR);
  if (!existsSync(join(dir, 'node_modules', '@event-driven-io', 'emmett-postgresql'))) {
    // Like `npm start`'s prestart: installs the pinned baseline from the registry on first use.
    process.stderr.write(`installing the Emmett baseline (npm ci --prefix ${DIR})...\n`);
    execFileSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
  }
  const from = { paths: [dir] };
  // Required at run time from the baseline's own folder, which the root's install (and its types) never sees.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const emmett = require(require.resolve('@event-driven-io/emmett-postgresql', from)) as Pick<EmmettModules, 'getPostgreSQLEventStore'>;
  const pg = require(require.resolve('pg', { paths: [join(dir, 'node_modules', '@event-driven-io', 'dumbo')] })) as Pick<EmmettModules, 'Pool'>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  loaded = { getPostgreSQLEventStore: emmett.getPostgreSQLEventStore, Pool: pg.Pool };
  return loaded;
}

/** Emmett's store on `url` with a pool of `poolSize` connections (the same size our side gets). */
export async function openEmmett(url: string, poolSize: number): Promise<{ store: EmmettEventStore; close(): Promise<void> }> {
  const { getPostgreSQLEventStore, Pool } = load();
  const pool = new Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: IDLE_MS });
  // An idle connection closed under it (the database being dropped) must not crash the run.
  pool.on('error', () => undefined);
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  // Creates Emmett's schema (its first append migrates) outside any timed section.
  await store.appendToStream(`warmup-${process.pid}`, [{ type: 'BenchWarmedUp', data: {} }]);
  return {
    store,
    async close() {
      await store.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
