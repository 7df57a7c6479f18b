import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { createPool, migrate, quoteIdent } from '../../src/postgres';
import { fenceSql, PostgresViewLeases } from './postgres-view-leases';
import {
  Checkpoint, CommitBatch, DeadLetter, FieldType, FilterCondition, Lease, LeaseFence, LeaseLostError, StoredDocument, ViewQuery,
  ViewSchema, ViewStore, ViewStoreOptions,
} from './view-store';
import {
  checkCollectionName, checkSchema, ID_FIELD, InvalidViewQueryError, latestChanges, resolveFilter, resolveQuery,
  ResolvedCondition, withSchema,
} from './view-query';

/**
 * The read store on PostgreSQL: one table view_<collection>(id, doc jsonb, applied) per
 * view, with an expression index per declared field. A deleted document stays as a
 * tombstone (doc NULL) that keeps its order key, so a stale event cannot bring it back.
 * Declared fields are kept in view_schemas, so any process can check and type queries.
 * init() runs the read-store migration itself (idempotent: already-run migrations are skipped).
 */
export class PostgresViewStore implements ViewStore {
  private readonly pool: Pool;
  private readonly schemas = new Map<string, ViewSchema>();
  private readonly leaseRows: PostgresViewLeases;
  private migrated?: Promise<void>;
  private readonly statements = new PreparedStatements();

  constructor(private readonly url: string, private readonly options: Pick<ViewStoreOptions, 'logger' | 'maxConnections' | 'clientName'> = {}) {
    this.pool = createPool(url, { max: options.maxConnections ?? 10, clientName: options.clientName });
    this.leaseRows = new PostgresViewLeases(this.pool);
  }

  /**
   * Migrates the read store once per store object: every projection's start calls it, and a
   * takeover must not queue on the cluster-wide migration lock that a paused peer may hold.
   */
  init(): Promise<void> {
    this.migrated ??= migrate(this.url, 'read-store', this.options.logger).then(
      () => undefined,
      (error: unknown) => {
        this.migrated = undefined;
        throw error;
      },
    );
    return this.migrated;
  }

  async ensureCollection(schema: ViewSchema): Promise<void> {
    checkSchema(schema);
    const name = tableName(schema.collection);
    let declared: ViewSchema['fields'] = {};
    await this.transaction(async (client) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; serialise store DDL.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('converge:view-store:ddl'))`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(name)} (
           id text COLLATE "C" NOT NULL, doc jsonb, applied text COLLATE "C" NOT NULL,
           CONSTRAINT ${quoteIdent(`${namePrefix(name)}pkey`)} PRIMARY KEY (id))`,
      );
      for (const [field, type] of Object.entries(schema.fields)) {
        // NULLS FIRST matches MongoDB's order (missing first) and serves both sort directions.
        await client.query(
          `CREATE INDEX IF NOT EXISTS ${quoteIdent(indexName(name, field))}
             ON ${quoteIdent(name)} (${valueExpr(field, type)} ASC NULLS FIRST, id ASC)`,
        );
      }
      // Merged, like the indexes: a field once declared stays queryable.
      const { rows } = await client.query<Pick<ViewSchema, 'fields'>>(
        `INSERT INTO view_schemas AS s (collection, fields) VALUES ($1, $2)
         ON CONFLICT (collection) DO UPDATE SET fields = s.fields || excluded.fields RETURNING fields`,
        [schema.collection, JSON.stringify(schema.fields)],
      );
      declared = rows[0].fields;
    });
    this.schemas.set(schema.collection, { collection: schema.collection, fields: declared });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async get(collection: string, id: string): Promise<StoredDocument | undefined> {
    return (await this.getMany(collection, [id])).get(id);
  }

  async getMany(collection: string, ids: string[]): Promise<Map<string, StoredDocument>> {
    const { rows } = await this.pool.query<StoredDocument>({
      ...this.statements.prepared(`SELECT id, doc, applied FROM ${table(collection)} WHERE id = ANY($1::text[]) AND doc IS NOT NULL`),
      values: [ids.map(String)],
    });
    return new Map(rows.map((row) => [row.id, row]));
  }

  async find(collection: string, query: ViewQuery): Promise<StoredDocument[]> {
    const q = await this.withSchema(collection, (schema) => resolveQuery(collection, schema, query));
    const params: unknown[] = [];
    const where = ['doc IS NOT NULL', ...q.filter.map((c) => conditionSql(c, params))];
    const asc = q.sort.direction === 'asc';
    const sortExpr = valueExpr(q.sort.field, q.sort.type);
    let orderBy = `id ${asc ? 'ASC' : 'DESC'}`;
    if (q.sort.field !== ID_FIELD) orderBy = `${sortExpr} ${asc ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'}, ${orderBy}`;
    if (q.after) where.push(keysetSql(q.sort.field, q.sort.type, asc, q.after, params));
    params.push(q.limit);
    const { rows } = await this.pool.query<StoredDocument>(
      `SELECT id, doc, applied FROM ${table(collection)} WHERE ${where.join(' AND ')}
        ORDER BY ${orderBy} LIMIT $${params.length}`,
      params,
    );
    return rows;
  }

  async count(collection: string, filter?: FilterCondition[]): Promise<number> {
    const params: unknown[] = [];
    const conditions = await this.withSchema(collection, (schema) => resolveFilter(collection, schema, filter));
    const where = ['doc IS NOT NULL', ...conditions.map((c) => conditionSql(c, params))];
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table(collection)} WHERE ${where.join(' AND ')}`,
      params,
    );
    return rows[0].n;
  }

  /**
   * One statement, so one round trip and atomic: a data-modifying CTE per collection (the
   * guard keeps stored rows whose order key is as new or newer), the dead letters, and the
   * checkpoint, which only moves forward. With a fence, every write is conditional on the
   * writer's lease row (fenceSql), so a writer that lost its lease changes nothing.
   */
  async commit(batch: CommitBatch): Promise<void> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const steps: string[] = [];
    const { fence } = batch;
    if (fence) steps.push(fenceSql(fence, param));
    const fenced = fence ? ' WHERE EXISTS (SELECT 1 FROM s0)' : '';
    for (const [collection, all] of latestChanges(batch.changes)) {
      // Reconciler repairs: compare-and-set on the stored `applied`, so a document the projector moved on is left alone.
      const repairs = all.filter((change) => change.replaces !== undefined).map(({ id, doc, applied, replaces }) => ({ id, doc, applied, replaces }));
      if (repairs.length) {
        steps.push(
          `UPDATE ${table(collection)} AS v SET doc = c.doc, applied = c.applied
             FROM jsonb_to_recordset(${param(JSON.stringify(repairs))}::jsonb) AS c(id text, doc jsonb, applied text, replaces text)
            WHERE v.id = c.id AND v.applied = c.replaces AND v.doc IS NOT NULL${fence ? ' AND EXISTS (SELECT 1 FROM s0)' : ''}`,
        );
      }
      const list = all.filter((change) => change.replaces === undefined);
      if (!list.length) continue;
      const rows = list.map(({ id, doc, applied }) => ({ id, doc, applied }));
      steps.push(
        `INSERT INTO ${table(collection)} AS v (id, doc, applied)
         SELECT c.id, c.doc, c.applied FROM jsonb_to_recordset(${param(JSON.stringify(rows))}::jsonb) AS c(id text, doc jsonb, applied text)${fenced}
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, applied = excluded.applied
         WHERE v.applied < excluded.applied`,
      );
    }
    const deadLetters = [...new Map((batch.deadLetters ?? []).map((d) => [`${d.projection}\u0000${d.eventId}`, d])).values()];
    if (deadLetters.length > 0) {
      steps.push(
        `INSERT INTO dead_letters (projection, event_id, order_key, event, error, attempts, failed_at)
         SELECT d."projection", d."eventId", d."orderKey", d."event", d."error", d."attempts", d."failedAt"
           FROM jsonb_to_recordset(${param(JSON.stringify(deadLetters))}::jsonb) AS d("projection" text, "eventId" text, "orderKey" text,
                "event" jsonb, "error" text, "attempts" int, "failedAt" timestamptz)${fenced}
         ON CONFLICT (projection, event_id) DO UPDATE SET order_key = excluded.order_key,
           event = excluded.event, error = excluded.error, attempts = excluded.attempts, failed_at = excluded.failed_at`,
      );
    }
    const { orderKey, position, eventRecordedAt, pending } = batch.checkpoint;
    const values = [batch.projection, orderKey, position, eventRecordedAt, pending, new Date()].map(param);
    steps.push(
      `INSERT INTO projection_checkpoints AS cp (projection, order_key, position, event_recorded_at, pending, updated_at)
       SELECT ${values[0]}::text, ${values[1]}::text, ${values[2]}::bigint, ${values[3]}::timestamptz, ${values[4]}::int, ${values[5]}::timestamptz${fenced}
       ON CONFLICT (projection) DO UPDATE SET order_key = excluded.order_key, position = excluded.position,
         event_recorded_at = excluded.event_recorded_at, pending = excluded.pending, updated_at = excluded.updated_at
       WHERE cp.order_key < excluded.order_key`,
    );
    const held = fence ? '(SELECT count(*) FROM s0)::int' : '1';
    const { rows } = await this.pool.query<{ held: number }>({
      ...this.statements.prepared(`WITH ${steps.map((sql, i) => `s${i} AS (${sql})`).join(',\n')} SELECT ${held} AS held`),
      values: params,
    });
    if (fence && rows[0].held === 0) throw new LeaseLostError(fence);
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return this.leaseRows.acquireLease(name, owner, ttlMs);
  }

  renewLease(fence: LeaseFence, owner: string, ttlMs: number): Promise<boolean> {
    return this.leaseRows.renewLease(fence, owner, ttlMs);
  }

  releaseLease(fence: LeaseFence, owner: string): Promise<void> {
    return this.leaseRows.releaseLease(fence, owner);
  }

  heartbeat(name: string, owner: string, ttlMs: number): Promise<void> {
    return this.leaseRows.heartbeat(name, owner, ttlMs);
  }

  leases(): Promise<{ leases: Lease[]; now: Date }> {
    return this.leaseRows.leases();
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.pool.query<Checkpoint>({
      ...this.statements.prepared(`${SELECT_CHECKPOINTS} WHERE projection = $1`),
      values: [projection],
    });
    return rows[0];
  }

  async checkpoints(): Promise<Checkpoint[]> {
    return (await this.pool.query<Checkpoint>(`${SELECT_CHECKPOINTS} ORDER BY projection`)).rows;
  }

  async deleteCheckpoint(projection: string): Promise<void> {
    await this.pool.query('DELETE FROM projection_checkpoints WHERE projection = $1', [projection]);
  }

  async deadLetters(projection?: string): Promise<DeadLetter[]> {
    const { rows } = await this.pool.query<DeadLetter>(
      `${SELECT_DEAD_LETTERS} WHERE $1::text IS NULL OR projection = $1 ORDER BY projection, order_key, event_id`,
      [projection ?? null],
    );
    return rows;
  }

  async deadLetter(projection: string, eventId: string): Promise<DeadLetter | undefined> {
    const { rows } = await this.pool.query<DeadLetter>(`${SELECT_DEAD_LETTERS} WHERE projection = $1 AND event_id = $2`, [projection, eventId]);
    return rows[0];
  }

  async deleteDeadLetter(projection: string, eventId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM dead_letters WHERE projection = $1 AND event_id = $2', [projection, eventId]);
    return (rowCount ?? 0) > 0;
  }

  async dropCollection(collection: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${table(collection)}`);
      await client.query('DELETE FROM view_schemas WHERE collection = $1', [collection]);
    });
    this.schemas.delete(collection);
  }

  async renameCollection(from: string, to: string): Promise<void> {
    const [source, target] = [tableName(from), tableName(to)];
    if (from === to) throw new InvalidViewQueryError(`cannot rename view collection ${from} onto itself`);
    await this.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('converge:view-store:ddl'))`);
      const { rows: found } = await client.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [quoteIdent(source)]);
      if (!found[0].oid) throw new Error(`cannot rename view collection ${from}: it does not exist`);
      await client.query(`DROP TABLE IF EXISTS ${quoteIdent(target)}`);
      await client.query(`ALTER TABLE ${quoteIdent(source)} RENAME TO ${quoteIdent(target)}`);
      await client.query('DELETE FROM view_schemas WHERE collection = $1', [to]);
      await client.query('UPDATE view_schemas SET collection = $1 WHERE collection = $2', [to, from]);
      // Index names carry the table's prefix; renaming them frees the names for the next shadow table.
      const { rows: indexes } = await client.query<{ indexname: string }>(
        'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1',
        [target],
      );
      for (const { indexname } of indexes) {
        if (!indexname.startsWith(namePrefix(source))) continue;
        const renamed = namePrefix(target) + indexname.slice(namePrefix(source).length);
        await client.query(`ALTER INDEX ${quoteIdent(indexname)} RENAME TO ${quoteIdent(renamed)}`);
      }
    });
    this.schemas.delete(from);
    this.schemas.delete(to);
  }

  async listCollections(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT substr(tablename, ${TABLE_PREFIX.length + 1}) AS name FROM pg_tables
        WHERE schemaname = current_schema() AND starts_with(tablename, $1) ORDER BY 1`,
      [TABLE_PREFIX],
    );
    return rows.map((row) => row.name);
  }

  private withSchema<R>(collection: string, use: (schema: ViewSchema | undefined) => R): Promise<R> {
    return withSchema(this.schemas, checkCollectionName(collection), async () => {
      const { rows } = await this.pool.query<Pick<ViewSchema, 'fields'>>('SELECT fields FROM view_schemas WHERE collection = $1', [collection]);
      return rows[0] && { collection, fields: rows[0].fields };
    }, use);
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // These transactions take the DDL lock and table locks that every commit needs: a client
      // paused or hung between two statements loses its session (and the locks) instead of
      // stalling every replica's commits and takeovers.
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '${DDL_IDLE_TIMEOUT}'`);
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

const TABLE_PREFIX = 'view_';
const DDL_IDLE_TIMEOUT = '5s';

const SELECT_CHECKPOINTS = `SELECT projection, order_key AS "orderKey", position, event_recorded_at AS "eventRecordedAt",
  pending, updated_at AS "updatedAt" FROM projection_checkpoints`;

const SELECT_DEAD_LETTERS = `SELECT event_id AS "eventId", projection, order_key AS "orderKey", event, error, attempts,
  failed_at AS "failedAt" FROM dead_letters`;

const CASTS: Record<FieldType, string> = { string: 'text', number: 'numeric', boolean: 'boolean' };
const COMPARISONS: Partial<Record<ResolvedCondition['op'], string>> = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/**
 * Names for the statements a projector or reader runs over and over (a checkpoint read, a batch's load and commit
 * per shape of batch), so each connection parses and plans them once: measured at about a third
 * of PostgreSQL's CPU for a one-document load and commit. A statement keeps working across a
 * collection's rebuild swap (PostgreSQL re-analyses it when a table it names is replaced). The
 * shapes are few (collections × repairs × dead letters × fence); past `limit` of them, as with
 * the unique names of rebuild shadows, further ones run unnamed rather than pile up on every
 * connection.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();

  constructor(private readonly limit = 256) {}

  prepared(text: string): { text: string; name?: string } {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.limit) {
      name = `view-${this.names.size + 1}`;
      this.names.set(text, name);
    }
    return name === undefined ? { text } : { text, name };
  }
}

function tableName(collection: string): string {
  return TABLE_PREFIX + checkCollectionName(collection);
}

function table(collection: string): string {
  return quoteIdent(tableName(collection));
}

function shortHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 6);
}

/** Readable, unique per table, and short enough that every index name stays under PostgreSQL's 63 characters. */
function namePrefix(table: string): string {
  return `${table.slice(0, 24)}_${shortHash(table)}__`;
}

function indexName(table: string, field: string): string {
  return `${namePrefix(table)}${field.replace(/\./g, '_').toLowerCase().slice(0, 20)}_${shortHash(field)}`;
}

/**
 * The typed value of a declared field (paths are validated, so safe to inline; the index
 * expressions must be the very same text). Values of another JSON type read as NULL.
 */
function valueExpr(field: string, type: FieldType): string {
  if (field === ID_FIELD) return 'id';
  const path = `'{${field.split('.').join(',')}}'`;
  if (type === 'string') return `((doc #>> ${path}) COLLATE "C")`;
  return `(CASE WHEN jsonb_typeof(doc #> ${path}) = '${type}' THEN (doc #> ${path})::${CASTS[type]} END)`;
}

function conditionSql(condition: ResolvedCondition, params: unknown[]): string {
  const { field, type, op, value } = condition;
  const param = (v: unknown) => `$${params.push(v)}::${CASTS[type]}`;
  const expr = valueExpr(field, type);
  switch (op) {
    case 'ne':
      // Like MongoDB's $ne, documents without the field match.
      return `${expr} IS DISTINCT FROM ${param(value)}`;
    case 'in':
      return `${expr} = ANY(${param(value)}[])`;
    case 'contains': {
      // The database's collation, not "C", so that case folding covers non-ASCII letters too.
      const text = field === ID_FIELD ? 'id::text COLLATE "default"' : `(doc #>> '{${field.split('.').join(',')}}')`;
      return `${text} ILIKE ${param(`%${String(value).replace(/[\\%_]/g, '\\$&')}%`)} ESCAPE '\\'`;
    }
    default:
      return `${expr} ${COMPARISONS[op]} ${param(value)}`;
  }
}

/** Rows after the cursor in (value NULLS FIRST, id) order, or its mirror for desc. */
function keysetSql(
  field: string, type: FieldType, asc: boolean, after: { value: unknown; id: string }, params: unknown[],
): string {
  const id = `$${params.push(after.id)}::text`;
  if (field === ID_FIELD) return `id ${asc ? '>' : '<'} ${id}`;
  const expr = valueExpr(field, type);
  if (after.value === null) return asc ? `((${expr} IS NULL AND id > ${id}) OR ${expr} IS NOT NULL)` : `(${expr} IS NULL AND id < ${id})`;
  const value = `$${params.push(after.value)}::${CASTS[type]}`;
  return asc ? `(${expr}, id) > (${value}, ${id})` : `((${expr}, id) < (${value}, ${id}) OR ${expr} IS NULL)`;
}
