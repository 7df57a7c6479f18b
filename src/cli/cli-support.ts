import { InvalidArgumentError } from 'commander';
import type { Pool } from 'pg';
import { allProjections } from '../../read-model/projections';
import type { Projection } from '../../read-model/projector/projection';
import { createViewStore } from '../../read-model/view-store/create-view-store';
import type { ViewStore, ViewStoreOptions } from '../../read-model/view-store/view-store';
import { Config, loadConfig } from '../config';
import { createLogger } from '../logger';
import { createPool } from '../postgres';
import { reaching, whileReaching } from '../unreachable';
import { PostgresEventLog } from '../../write-model/event-store/postgres-event-log';
import { PostgresRebuildLeases } from '../../write-model/leases/rebuild-leases';

/** Exit codes every verb shares; scripts can tell "found a problem" from "was used wrongly". */
export const EXIT = { ok: 0, failure: 1, usage: 2, leaseHeld: 3, badConfig: 78, interrupted: 130 } as const;

/** An error meant for the operator: printed as is (no stack), with its exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
  }
}

/** The projections a verb works on: one by name, or every one with --all. */
export function selectProjections(config: Config, name: string | undefined, all: boolean | undefined): Projection[] {
  const projections = allProjections(config);
  const names = projections.map((p) => p.name).join(', ');
  if (all && name) throw new CliError(`give a projection or --all, not both`, EXIT.usage);
  if (all) return projections;
  if (!name) throw new CliError(`name a projection (${names}) or use --all`, EXIT.usage);
  return [projectionNamed(config, name)];
}

export function projectionNamed(config: Config, name: string): Projection {
  const projections = allProjections(config);
  const found = projections.find((p) => p.name === name);
  if (!found) {
    throw new CliError(`unknown projection "${name}"; valid projections: ${projections.map((p) => p.name).join(', ')}`, EXIT.usage);
  }
  return found;
}

/** What a verb needs: configuration, the read store and, when asked, the write store's event log. */
export interface CliContext {
  config: Config;
  store: ViewStore;
  pool?: Pool;
  log?: PostgresEventLog;
  leases?: PostgresRebuildLeases;
}

export async function withContext<T>(needs: { writeStore: boolean }, use: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger('converge-cli', 'warn');
  const store = await openReadStore(config, { logger, maxConnections: 4, clientName: 'converge cli' });
  const pool = needs.writeStore ? createPool(config.databaseUrl, { max: 4, clientName: 'converge cli' }) : undefined;
  try {
    // The pool connects lazily: try it now, so a bad DATABASE_URL is named before the verb starts.
    if (pool) await reaching('write store', config.databaseUrl, () => pool.query('SELECT 1'));
    return await use({
      config,
      store,
      pool,
      log: pool && new PostgresEventLog(pool),
      leases: pool && new PostgresRebuildLeases(config.databaseUrl, pool, config.namespace),
    });
  } finally {
    await pool?.end().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
}

/** Opens (and prepares) the read store; a failure to connect names it and its URL. */
export function openReadStore(config: Config, options: ViewStoreOptions = {}): Promise<ViewStore> {
  return whileReaching('read store', config.readStoreUrl, () => createViewStore(config.readStoreUrl, options));
}

/** A commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return parsed;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** 12345 → "12,345": counts an operator reads at a glance. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
