import { Client, Pool, PoolConfig, types } from 'pg';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { projectRoot } from './paths';
import type { Logger } from './logger';

// int8 (positions, counts) as JavaScript numbers: positions stay far below 2^53.
types.setTypeParser(20, (value) => Number(value));

/** How long a checkout waits for a new connection before it fails (a store that hangs rather than refuses). */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A pool whose clients never crash the process when PostgreSQL ends or drops their connection
 * (a restart, `pg_terminate_backend`, a network cut): the query in flight rejects with the
 * connection error (the caller answers 503 or retries), the broken client leaves the pool, and
 * the next checkout connects anew.
 */
export function createPool(connectionString: string, options: PoolConfig & { clientName?: string } = {}): Pool {
  const { clientName, ...config } = options;
  const pool = new Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    // pg_stat_activity tells the processes' connections apart; an application_name in the URL or PGAPPNAME wins.
    ...(clientName && { fallback_application_name: clientName }),
    ...config,
  });
  // The pool listens on idle clients only: a checked-out one (a transaction between two queries)
  // would emit an unhandled 'error' and end the process. Every client gets a listener for life.
  pool.on('connect', (client) => client.on('error', ignoreConnectionError));
  pool.on('error', ignoreConnectionError);
  return pool;
}

/** A single connection (admin statements, a held lock), with the same protection as a pool's. */
export async function connectClient(connectionString: string): Promise<Client> {
  const client = new Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
  client.on('error', ignoreConnectionError);
  await client.connect();
  return client;
}

/** The error also rejects whatever query was running on the client: that caller handles it. */
function ignoreConnectionError(): void {}

/** The database a postgres:// URL names (empty when it names none). */
export function databaseName(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.slice(1));
}

/** A client on the same server's `postgres` database, for work on the database the URL names (which may not exist). */
function connectToServer(connectionString: string): Promise<Client> {
  const url = new URL(connectionString);
  url.pathname = '/postgres';
  return connectClient(url.toString());
}

/** Creates the database named in the URL if it does not exist (developer machines, tests). */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const name = databaseName(connectionString);
  if (!name) throw new Error(`no database name in ${redact(connectionString)}`);
  const admin = await connectToServer(connectionString);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((error: { code?: string }) => {
        // Created meanwhile by another process: 42P04, or 23505 when both inserted into pg_database at once.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(connectionString: string): Promise<void> {
  const name = databaseName(connectionString);
  const admin = await connectToServer(connectionString);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Applies the SQL migrations in migrations/<set> with node-pg-migrate. Processes starting
 * together queue for the database's migration lock instead of failing on node-pg-migrate's
 * try-lock ("Another migration is already running"): the first applies, the rest find nothing to do.
 */
export async function migrate(connectionString: string, set: 'write-store' | 'read-store', logger?: Logger) {
  return withMigrationLock(connectionString, async () => {
    await ensureDatabase(connectionString);
    return runMigrations(connectionString, set, logger);
  });
}

/**
 * Holds a session advisory lock, in the cluster's `postgres` database (the target may not exist
 * yet), keyed by the target database's name, while `work` runs. A lost connection releases it.
 */
async function withMigrationLock<T>(connectionString: string, work: () => Promise<T>): Promise<T> {
  const name = databaseName(connectionString);
  const lock = await connectToServer(connectionString);
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('converge migrations: ' || $1))`, [name]);
    return await work();
  } finally {
    await lock.end().catch(() => undefined);
  }
}

/** On a client of our own (error listener for life): a backend terminated mid-migration rejects, it does not crash the process. */
async function runMigrations(connectionString: string, set: 'write-store' | 'read-store', logger?: Logger) {
  const dbClient = await connectClient(connectionString);
  try {
    return await migrateOn(dbClient, set, logger);
  } finally {
    await dbClient.end().catch(() => undefined);
  }
}

function migrateOn(dbClient: Client, set: 'write-store' | 'read-store', logger?: Logger) {
  return runner({
    dbClient,
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
  return connectionString.replace(/\/\/([^:@/]*):[^@/]*@/g, '//$1:***@').replace(/([?&]password=)[^&]*/gi, '$1***');
}
