/** In-memory databases and collections. Every mutation goes through a collection so indexes stay in step. */
import { deserialize, ObjectId, serialize, UUID, type Document } from 'bson';
import { CommandError } from './errors';
import { canonicalKey, IndexCatalog } from './indexes';
import { compileFilter, isOperatorObject } from './query-engine';

/** A deep copy that keeps BSON types (ObjectId, Long, Binary…) intact. */
export function copyDocument<T extends Document>(doc: T): T {
  return deserialize(serialize(doc)) as T;
}

/** Puts `_id` first (generating an ObjectId when missing), as MongoDB stores documents. */
export function withIdFirst(doc: Document): Document {
  const { _id, ...rest } = doc;
  if (Array.isArray(_id)) throw new CommandError('BadValue', "can't use an array for _id");
  return { _id: _id === undefined ? new ObjectId() : _id, ...rest };
}

export class StoredCollection {
  /** Keyed by the canonical `_id`; a Map iterates in insertion order, which is the natural order. */
  private readonly docs = new Map<string, Document>();
  readonly indexes = new IndexCatalog();
  readonly uuid = new UUID();

  constructor(
    public db: string,
    public name: string,
    readonly options: Document = {},
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.docs.size;
  }

  /** Stored documents themselves: callers must copy before mutating or handing them out. */
  all(): Document[] {
    return [...this.docs.values()];
  }

  /** Documents matching `filter` in natural order; an `_id` equality is looked up directly. */
  matching(filter: Document | undefined): Document[] {
    const matches = compileFilter(filter);
    const id = filter?._id;
    const byId = filter !== undefined && filter !== null && '_id' in filter && !isOperatorObject(id) && !(id instanceof RegExp);
    const pool = byId ? [this.docs.get(canonicalKey(id))].filter((doc): doc is Document => doc !== undefined) : this.all();
    return pool.filter(matches);
  }

  entries(): Iterable<[string, Document]> {
    return this.docs.entries();
  }

  insert(doc: Document): void {
    this.indexes.check(this.ns, doc, null);
    const id = canonicalKey(doc._id);
    this.docs.set(id, doc);
    this.indexes.add(doc, id);
  }

  replace(current: Document, next: Document): void {
    const id = canonicalKey(current._id);
    this.indexes.check(this.ns, next, id);
    this.indexes.remove(current, id);
    this.docs.set(id, next);
    this.indexes.add(next, id);
  }

  remove(doc: Document): void {
    const id = canonicalKey(doc._id);
    this.indexes.remove(doc, id);
    this.docs.delete(id);
  }
}

export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('$') || name.includes('\0')) {
    throw new CommandError('InvalidNamespace', `Invalid collection name: ${String(name)}`);
  }
  return name;
}

export class Store {
  private readonly databases = new Map<string, Map<string, StoredCollection>>();

  collection(db: string, name: string): StoredCollection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** MongoDB creates collections implicitly on first write. */
  ensureCollection(db: string, name: string, options: Document = {}): StoredCollection {
    const existing = this.collection(db, name);
    if (existing) return existing;
    const created = new StoredCollection(db, validateCollectionName(name), options);
    this.database(db).set(name, created);
    return created;
  }

  collections(db: string): StoredCollection[] {
    return [...(this.databases.get(db)?.values() ?? [])];
  }

  databaseNames(): string[] {
    return [...this.databases.keys()].filter((db) => (this.databases.get(db)?.size ?? 0) > 0);
  }

  dropCollection(db: string, name: string): boolean {
    return this.databases.get(db)?.delete(name) ?? false;
  }

  dropDatabase(db: string): void {
    this.databases.delete(db);
  }

  /** Synchronous, hence atomic: no reader can run between removing the target and placing the source. */
  rename(source: StoredCollection, toDb: string, toName: string): void {
    this.database(source.db).delete(source.name);
    source.db = toDb;
    source.name = toName;
    this.database(toDb).set(toName, source);
  }

  private database(db: string): Map<string, StoredCollection> {
    let collections = this.databases.get(db);
    if (!collections) {
      collections = new Map();
      this.databases.set(db, collections);
    }
    return collections;
  }
}
