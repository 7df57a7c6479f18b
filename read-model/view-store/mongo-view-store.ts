import {
  AnyBulkWriteOperation, Collection, Db, Document, Filter, MongoBulkWriteError, MongoClient, MongoServerError, Sort,
} from 'mongodb';
import {
  CHECKPOINTS_COLLECTION, DEAD_LETTERS_COLLECTION, fixedIndexes, indexesFor, SCHEMAS_COLLECTION,
} from '../../migrations/mongo/indexes';
import { MongoViewLeases } from './mongo-view-leases';
import {
  Checkpoint, CommitBatch, DeadLetter, FieldType, FilterCondition, Lease, LeaseFence, LeaseLostError, StoredDocument, ViewChange, ViewQuery,
  ViewSchema, ViewStore, ViewStoreOptions,
} from './view-store';
import {
  checkCollectionName, checkSchema, ID_FIELD, InvalidViewQueryError, latestChanges, resolveFilter, resolveQuery,
  ResolvedCondition, withSchema,
} from './view-query';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
const NAMESPACE_EXISTS = 48;
/** Stored beside the document's own fields; documents may not use these names. */
const RESERVED = ['_id', '_applied', '_deleted'];
/** A deleted document stays as a tombstone keeping its order key, so a stale event cannot bring it back. */
const LIVE: Filter<ViewRecord> = { _deleted: { $ne: true } };

/** A view's declared fields as stored: a list, since dotted paths cannot be field names in updates. */
interface SchemaRecord extends Document {
  _id: string;
  fields: { path: string; type: FieldType }[];
}

/** The driver waits 30 s for an unreachable server; 5 s unless READ_STORE_URL sets its own (option object beats URL). */
const CONNECT_TIMEOUT_MS = 5_000;
function connectTimeouts(url: string): { serverSelectionTimeoutMS?: number; connectTimeoutMS?: number } {
  const query = url.split('?')[1] ?? '';
  return {
    ...(!/(^|&)serverSelectionTimeoutMS=/i.test(query) && { serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS }),
    ...(!/(^|&)connectTimeoutMS=/i.test(query) && { connectTimeoutMS: CONNECT_TIMEOUT_MS }),
  };
}

/** A view document as MongoDB holds it: string ids, never ObjectIds. */
interface ViewRecord extends Document {
  _id: string;
  _applied: string;
  _deleted?: true;
}

/**
 * The read store on MongoDB: a view document is stored as { _id, ...doc, _applied }.
 * Without a replica set there are no multi-document transactions, so commit() writes the
 * views, then the dead letters, then the checkpoint: a crash in between leaves the checkpoint
 * behind the views, the events are redelivered, and each document's guard skips what it holds.
 * Declared fields are kept in a schemas collection, so any process can check and type queries.
 */
export class MongoViewStore implements ViewStore {
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly schemas = new Map<string, ViewSchema>();
  private readonly leaseRecords: MongoViewLeases;

  constructor(url: string, options: Pick<ViewStoreOptions, 'maxConnections' | 'database' | 'clientName'> = {}) {
    // ignoreUndefined: an undefined field is left out, as JSON (and so the PostgreSQL store) does.
    this.client = new MongoClient(url, {
      ignoreUndefined: true,
      maxPoolSize: options.maxConnections ?? 10,
      // The URL's own appName wins, as the URL's application_name does on PostgreSQL.
      ...(options.clientName && !/[?&]appName=/i.test(url) && { appName: options.clientName }),
      ...connectTimeouts(url),
    });
    this.db = this.client.db(options.database ?? databaseIn(url) ?? 'converge');
    this.leaseRecords = new MongoViewLeases(this.db);
  }

  async init(): Promise<void> {
    await this.client.connect();
    for (const [name, indexes] of Object.entries(fixedIndexes)) await this.db.collection(name).createIndexes(indexes);
  }

  async ensureCollection(schema: ViewSchema): Promise<void> {
    checkSchema(schema);
    await this.db.createCollection(schema.collection).catch((error) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
    });
    const indexes = indexesFor(schema);
    if (indexes.length > 0) await this.views(schema.collection).createIndexes(indexes);
    // Merged, like the indexes: a field once declared stays queryable.
    const fields = { ...(await this.loadSchema(schema.collection))?.fields, ...schema.fields };
    await this.schemaRecords().replaceOne({ _id: schema.collection }, toSchemaRecord(schema.collection, fields), { upsert: true });
    this.schemas.set(schema.collection, { collection: schema.collection, fields });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async get(collection: string, id: string): Promise<StoredDocument | undefined> {
    return (await this.getMany(collection, [id])).get(id);
  }

  async getMany(collection: string, ids: string[]): Promise<Map<string, StoredDocument>> {
    const found = await this.views(collection).find({ _id: { $in: ids.map(String) }, ...LIVE }).toArray();
    return new Map(found.map((raw) => [String(raw._id), toStored(raw)]));
  }

  async find(collection: string, query: ViewQuery): Promise<StoredDocument[]> {
    const q = await withSchema(this.schemas, collection, () => this.loadSchema(collection), (schema) =>
      resolveQuery(collection, schema, query));
    const field = q.sort.field === ID_FIELD ? '_id' : q.sort.field;
    const direction = q.sort.direction === 'asc' ? 1 : -1;
    const sort: Sort = field === '_id' ? { _id: direction } : { [field]: direction, _id: direction };
    const conditions = [LIVE, ...q.filter.map(toMongo)];
    if (q.after) conditions.push(keyset(field, direction, q.after));
    const found = await this.views(collection).find({ $and: conditions }, { sort, limit: q.limit }).toArray();
    return found.map(toStored);
  }

  async count(collection: string, filter?: FilterCondition[]): Promise<number> {
    const conditions = await withSchema(this.schemas, checkCollectionName(collection), () => this.loadSchema(collection),
      (schema) => resolveFilter(collection, schema, filter));
    return this.views(collection).countDocuments({ $and: [LIVE, ...conditions.map(toMongo)] });
  }

  /**
   * With a fence: the lease is checked before the writes, and the checkpoint is stamped with
   * the writer's token and refused to a smaller one. Without transactions a writer that loses
   * its lease between the check and its writes may still land that one batch's view changes;
   * they are the same documents the new owner computes from the same events, and the order-key
   * guard keeps whichever is newer, so nothing is applied twice.
   */
  async commit(batch: CommitBatch): Promise<void> {
    const { fence } = batch;
    if (fence && !(await this.leaseRecords.holds(fence))) throw new LeaseLostError(fence);
    for (const [collection, changes] of latestChanges(batch.changes)) await this.writeGuarded(collection, changes);
    const deadLetters = batch.deadLetters ?? [];
    if (deadLetters.length > 0) {
      await this.db.collection(DEAD_LETTERS_COLLECTION).bulkWrite(
        deadLetters.map((d) => ({
          updateOne: {
            filter: { projection: String(d.projection), eventId: String(d.eventId) },
            update: { $set: { projection: d.projection, eventId: d.eventId, orderKey: d.orderKey, event: d.event,
              error: d.error, attempts: d.attempts, failedAt: d.failedAt } },
            upsert: true,
          },
        })),
        { ordered: true },
      );
    }
    const { orderKey, position, eventRecordedAt, pending } = batch.checkpoint;
    const fenced = fence ? { $or: [{ fence: { $exists: false } }, { fence: { $lte: fence.token } }] } : {};
    try {
      // Misses when the stored checkpoint is as far or further; the upsert then hits the unique key.
      await this.db.collection(CHECKPOINTS_COLLECTION).updateOne(
        { projection: String(batch.projection), orderKey: { $lt: String(orderKey) }, ...fenced },
        { $set: { projection: batch.projection, orderKey, position, eventRecordedAt, pending, updatedAt: new Date(), ...(fence && { fence: fence.token }) } },
        { upsert: true },
      );
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      const stored = fence && (await this.db.collection(CHECKPOINTS_COLLECTION).findOne({ projection: String(batch.projection) }));
      if (fence && stored && typeof stored.fence === 'number' && stored.fence > fence.token) throw new LeaseLostError(fence);
    }
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return this.leaseRecords.acquireLease(name, owner, ttlMs);
  }

  renewLease(fence: LeaseFence, owner: string, ttlMs: number): Promise<boolean> {
    return this.leaseRecords.renewLease(fence, owner, ttlMs);
  }

  releaseLease(fence: LeaseFence, owner: string): Promise<void> {
    return this.leaseRecords.releaseLease(fence, owner);
  }

  heartbeat(name: string, owner: string, ttlMs: number): Promise<void> {
    return this.leaseRecords.heartbeat(name, owner, ttlMs);
  }

  leases(): Promise<{ leases: Lease[]; now: Date }> {
    return this.leaseRecords.leases();
  }

  async checkpoint(projection: string): Promise<Checkpoint | undefined> {
    const raw = await this.db.collection(CHECKPOINTS_COLLECTION).findOne({ projection: String(projection) });
    return raw ? toCheckpoint(raw) : undefined;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const found = await this.db.collection(CHECKPOINTS_COLLECTION).find({}, { sort: { projection: 1 } }).toArray();
    return found.map(toCheckpoint);
  }

  async deleteCheckpoint(projection: string): Promise<void> {
    await this.db.collection(CHECKPOINTS_COLLECTION).deleteOne({ projection: String(projection) });
  }

  async deadLetters(projection?: string): Promise<DeadLetter[]> {
    const filter = projection === undefined ? {} : { projection: String(projection) };
    const sort: Sort = { projection: 1, orderKey: 1, eventId: 1 };
    return (await this.db.collection(DEAD_LETTERS_COLLECTION).find(filter, { sort }).toArray()).map(toDeadLetter);
  }

  async deadLetter(projection: string, eventId: string): Promise<DeadLetter | undefined> {
    const raw = await this.db
      .collection(DEAD_LETTERS_COLLECTION)
      .findOne({ projection: String(projection), eventId: String(eventId) });
    return raw ? toDeadLetter(raw) : undefined;
  }

  async deleteDeadLetter(projection: string, eventId: string): Promise<boolean> {
    const { deletedCount } = await this.db
      .collection(DEAD_LETTERS_COLLECTION)
      .deleteOne({ projection: String(projection), eventId: String(eventId) });
    return deletedCount > 0;
  }

  async dropCollection(collection: string): Promise<void> {
    await this.db.dropCollection(checkCollectionName(collection)).catch((error) => {
      if (!(error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND)) throw error;
    });
    await this.schemaRecords().deleteOne({ _id: collection });
    this.schemas.delete(collection);
  }

  async renameCollection(from: string, to: string): Promise<void> {
    checkCollectionName(from);
    checkCollectionName(to);
    if (from === to) throw new InvalidViewQueryError(`cannot rename view collection ${from} onto itself`);
    await this.db.renameCollection(from, to, { dropTarget: true }).catch((error) => {
      if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) {
        throw new Error(`cannot rename view collection ${from}: it does not exist`);
      }
      throw error;
    });
    // After the swap, not before: a failed rename must leave the target's schema alone.
    const schema = await this.loadSchema(from);
    if (schema) await this.schemaRecords().replaceOne({ _id: to }, toSchemaRecord(to, schema.fields), { upsert: true });
    await this.schemaRecords().deleteOne({ _id: from });
    this.schemas.delete(from);
    this.schemas.delete(to);
  }

  async listCollections(): Promise<string[]> {
    const found = await this.db.listCollections({}, { nameOnly: true }).toArray();
    // Only view collections: the store's own (dotted) and system collections are left out.
    return found.map((c) => c.name).filter((name) => /^[a-z0-9_]+$/.test(name)).sort();
  }

  private schemaRecords(): Collection<SchemaRecord> {
    return this.db.collection<SchemaRecord>(SCHEMAS_COLLECTION);
  }

  private async loadSchema(collection: string): Promise<ViewSchema | undefined> {
    const record = await this.schemaRecords().findOne({ _id: String(collection) });
    if (!record) return undefined;
    return { collection, fields: Object.fromEntries(record.fields.map(({ path, type }) => [path, type])) };
  }

  private views(collection: string): Collection<ViewRecord> {
    return this.db.collection<ViewRecord>(checkCollectionName(collection));
  }

  /** Replaces each document only if the stored one is older; a miss on a newer one surfaces as a duplicate _id. */
  private async writeGuarded(collection: string, changes: ViewChange[]): Promise<void> {
    let pending = changes;
    for (let attempt = 0; pending.length > 0 && attempt < 3; attempt += 1) {
      const conflicting = await this.bulkReplace(collection, pending);
      if (conflicting.length === 0) return;
      // A duplicate key is normally a stale change; re-check in case another writer inserted the document meanwhile.
      const stored = await this.views(collection)
        .find({ _id: { $in: conflicting.map((c) => c.id) } }, { projection: { _applied: 1 } })
        .toArray();
      const applied = new Map(stored.map((raw) => [String(raw._id), String(raw._applied)]));
      pending = conflicting.filter((c) => !applied.has(c.id) || applied.get(c.id)! < c.applied);
    }
    if (pending.length > 0) throw new Error(`view ${collection}: guarded writes kept conflicting for ${pending.length} documents`);
  }

  /** Returns the changes that hit a duplicate _id; any other failure is thrown. */
  private async bulkReplace(collection: string, changes: ViewChange[]): Promise<ViewChange[]> {
    const operations: AnyBulkWriteOperation<ViewRecord>[] = changes.map((change) => ({
      replaceOne: {
        // A repair replaces only the very document it was compared with (see ViewChange.replaces).
        filter: change.replaces === undefined ? { _id: change.id, _applied: { $lt: change.applied } } : { _id: change.id, _applied: change.replaces },
        replacement: change.doc === null
          ? { _id: change.id, _applied: change.applied, _deleted: true as const }
          : { ...checkDocument(collection, change), _id: change.id, _applied: change.applied },
        upsert: change.replaces === undefined,
      },
    }));
    try {
      await this.views(collection).bulkWrite(operations, { ordered: false });
      return [];
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const writeErrors = [error.writeErrors].flat();
      const onlyDuplicates = writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY);
      if (!onlyDuplicates || error.result.getWriteConcernError()) throw error;
      return writeErrors.map((e) => changes[e.index]);
    }
  }
}

function databaseIn(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url)?.[1];
  return name ? decodeURIComponent(name) : undefined;
}

function toSchemaRecord(collection: string, fields: ViewSchema['fields']): SchemaRecord {
  return { _id: collection, fields: Object.entries(fields).map(([path, type]) => ({ path, type })) };
}

function checkDocument(collection: string, change: ViewChange): Record<string, unknown> {
  const clash = RESERVED.find((key) => Object.prototype.hasOwnProperty.call(change.doc, key));
  if (clash) throw new InvalidViewQueryError(`view ${collection} document ${change.id} uses the reserved field ${clash}`);
  return change.doc!;
}

function toStored(raw: Document): StoredDocument {
  const { _id, _applied, _deleted, ...doc } = raw;
  return { id: String(_id), doc, applied: String(_applied) };
}

function toCheckpoint(raw: Document): Checkpoint {
  const { projection, orderKey, position, eventRecordedAt, pending, updatedAt } = raw as Omit<Checkpoint, 'eventRecordedAt'> & {
    eventRecordedAt?: Date | null;
  };
  return { projection, orderKey, position, eventRecordedAt: eventRecordedAt ?? null, pending, updatedAt };
}

function toDeadLetter(raw: Document): DeadLetter {
  const { eventId, projection, orderKey, event, error, attempts, failedAt } = raw as DeadLetter;
  return { eventId, projection, orderKey, event, error, attempts, failedAt };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Built only from the checked condition: no user object reaches the query, so no operator can be injected. */
function toMongo({ field, op, value }: ResolvedCondition): Filter<ViewRecord> {
  const path = field === ID_FIELD ? '_id' : field;
  if (op === 'contains') return { [path]: { $regex: escapeRegex(String(value)), $options: 'i' } };
  return { [path]: { [`$${op}`]: value } };
}

/** Documents after the cursor in (value, _id) order, null and missing values first, or the mirror for desc. */
function keyset(field: string, direction: 1 | -1, after: { value: unknown; id: string }): Filter<ViewRecord> {
  const beyond = direction === 1 ? '$gt' : '$lt';
  if (field === '_id') return { _id: { [beyond]: after.id } };
  if (after.value === null) {
    const nullsAfter = { [field]: null, _id: { [beyond]: after.id } };
    return direction === 1 ? { $or: [nullsAfter, { [field]: { $ne: null } }] } : nullsAfter;
  }
  const ties = { [field]: { $eq: after.value }, _id: { [beyond]: after.id } };
  const past = { [field]: { [beyond]: after.value } };
  return direction === 1 ? { $or: [past, ties] } : { $or: [past, ties, { [field]: null }] };
}
