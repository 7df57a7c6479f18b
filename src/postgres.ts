import { Client, Pool, PoolConfig, types } from 'pg';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { projectRoot } from './paths';
import type { Logger } from './logger';

// int8 (positions, counts) as JavaScript numbers: positions stay far below 2^53.
types.setTypeParser(20, (value) => Number(value));

export function createPool(connectionString: string, options: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString, max: 10, ...options });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Creates the database named in the URL if it does not exist (developer machines, tests). */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new Error(`no database name in ${redact(connectionString)}`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Applies the SQL migrations in migrations/<set> with node-pg-migrate. */
export async function migrate(connectionString: string, set: 'write-store' | 'read-store', logger?: Logger) {
  await ensureDatabase(connectionString);
  return runner({
    databaseUrl: connectionString,
    dir: join(projectRoot(), 'migrations', set),
    migrationsTable: 'pgmigrations',
    direction: 'up',
    count: Infinity,
    singleTransaction: true,
    log: (message) => logger?.debug(message),
    logger: logger
      ? // node-pg-migrate narrates every step at info: that is start-up chatter, debug here.
        { debug: (m) => logger.debug(m), info: (m) => logger.debug(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) }
      : { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The URL without its passwords (userinfo and `password=` parameters; every server of a list), fit for messages. */
export function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:@/]+):[^@/]*@/g, '//$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}
