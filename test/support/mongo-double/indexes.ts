/** Index catalog of one collection: stores definitions and enforces unique (compound, sparse, partial) keys. */
import { EJSON, type Document } from 'bson';
import { valuesAtPath, toNumber, typeRank } from './bson-order';
import { CommandError } from './errors';
import { compileFilter } from './query-engine';

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
}

interface IndexEntry {
  key: string;
  values: unknown[];
}

/** A string equal for values MongoDB's index considers equal (1 == 1.0 == Long(1), null == missing). */
export function canonicalKey(value: unknown): string {
  const rank = typeRank(value);
  if (rank === 2) return 'N';
  if (rank === 3) {
    const n = toNumber(value);
    return `n${Object.is(n, -0) ? 0 : n}`;
  }
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return value ? 'b1' : 'b0';
  if (value instanceof Date) return `d${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (rank === 8) return `o${(value as { toHexString(): string }).toHexString()}`;
  if (rank === 5) {
    return `{${Object.entries(value as Document)
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalKey(v)}`)
      .join(',')}}`;
  }
  return `e${EJSON.stringify({ v: value }, { relaxed: false })}`;
}

export function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([field, kind]) => `${field}_${kind}`)
    .join('_');
}

/** MongoDB's rendering of a key value inside an E11000 message. */
function renderValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (Array.isArray(value)) return `[ ${value.map(renderValue).join(', ')} ]`;
  const tag = (value as { _bsontype?: string })._bsontype;
  if (tag === 'ObjectId') return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`;
  if (typeof value === 'object' && tag === undefined) return renderKeyValue(value);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the other BSON values (Long, Decimal128, ...) render themselves
  return String(value);
}

function renderKeyValue(doc: Document): string {
  const parts = Object.entries(doc).map(([k, v]) => `${k}: ${renderValue(v)}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

export function duplicateKeyError(ns: string, spec: IndexSpec, values: unknown[]): CommandError {
  const fields = Object.keys(spec.key);
  const keyValue: Document = {};
  fields.forEach((field, i) => {
    keyValue[field] = values[i] === undefined ? null : values[i];
  });
  return new CommandError(
    'DuplicateKey',
    `E11000 duplicate key error collection: ${ns} index: ${spec.name} dup key: ${renderKeyValue(keyValue)}`,
    { keyPattern: { ...spec.key }, keyValue },
  );
}

class Index {
  /** composite key → `_id` key of the owning document; only kept for unique indexes. */
  private readonly owners = new Map<string, string>();
  private readonly appliesTo: (doc: Document) => boolean;

  constructor(readonly spec: IndexSpec) {
    const partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : () => true;
    this.appliesTo = partial;
  }

  entries(doc: Document): IndexEntry[] {
    if (!this.appliesTo(doc)) return [];
    const perField = Object.keys(this.spec.key).map((field) => {
      const found = valuesAtPath(doc, field.split('.'));
      if (found.length === 0) return [undefined];
      return found.flatMap((v) => (Array.isArray(v) ? (v.length === 0 ? [undefined] : v) : [v]));
    });
    if (this.spec.sparse && perField.every((vs) => vs.length === 1 && vs[0] === undefined)) return [];
    let combos: unknown[][] = [[]];
    for (const values of perField) combos = combos.flatMap((prefix) => values.map((v) => [...prefix, v]));
    const unique = new Map<string, IndexEntry>();
    for (const values of combos) {
      const key = values.map(canonicalKey).join('|');
      unique.set(key, { key, values });
    }
    return [...unique.values()];
  }

  /** The first entry of `doc` already owned by another document, if any. */
  /** `ownerId` null means a new document: every existing owner conflicts. */
  conflict(doc: Document, ownerId: string | null): IndexEntry | undefined {
    if (!this.spec.unique) return undefined;
    return this.entries(doc).find((entry) => {
      const owner = this.owners.get(entry.key);
      return owner !== undefined && owner !== ownerId;
    });
  }

  add(doc: Document, ownerId: string): void {
    if (this.spec.unique) for (const entry of this.entries(doc)) this.owners.set(entry.key, ownerId);
  }

  remove(doc: Document, ownerId: string): void {
    if (!this.spec.unique) return;
    for (const entry of this.entries(doc)) if (this.owners.get(entry.key) === ownerId) this.owners.delete(entry.key);
  }
}

export const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

export class IndexCatalog {
  private readonly indexes: Index[] = [new Index({ ...ID_INDEX, unique: true })];

  list(): IndexSpec[] {
    return this.indexes.map(({ spec }) => {
      const { unique, ...rest } = spec;
      return spec.name === ID_INDEX.name ? { ...rest } : { ...rest, ...(unique ? { unique } : {}) };
    });
  }

  find(name: string): IndexSpec | undefined {
    return this.indexes.find((i) => i.spec.name === name)?.spec;
  }

  /** Throws E11000 if `doc` (owned by `ownerId`) would collide on any unique index. */
  check(ns: string, doc: Document, ownerId: string | null): void {
    for (const index of this.indexes) {
      const entry = index.conflict(doc, ownerId);
      if (entry) throw duplicateKeyError(ns, index.spec, entry.values);
    }
  }

  add(doc: Document, ownerId: string): void {
    for (const index of this.indexes) index.add(doc, ownerId);
  }

  remove(doc: Document, ownerId: string): void {
    for (const index of this.indexes) index.remove(doc, ownerId);
  }

  /** Builds a new index over existing documents; returns false when an identical one exists. */
  create(ns: string, spec: IndexSpec, docs: Iterable<[string, Document]>): boolean {
    const sameName = this.indexes.find((i) => i.spec.name === spec.name);
    const sameKey = this.indexes.find((i) => canonicalKey(i.spec.key) === canonicalKey(spec.key));
    if (sameName && canonicalKey(sameName.spec.key) !== canonicalKey(spec.key)) {
      throw new CommandError('IndexKeySpecsConflict', `An existing index has the same name as the requested index. Requested index: ${EJSON.stringify(spec)}, existing index: ${EJSON.stringify(sameName.spec)}`);
    }
    if (sameKey) {
      const sameOptions = canonicalKey(optionsOf(sameKey.spec)) === canonicalKey(optionsOf(spec));
      if (sameKey.spec.name === spec.name && (sameOptions || spec.name === ID_INDEX.name)) return false;
      if (sameKey.spec.name !== spec.name) {
        throw new CommandError('IndexOptionsConflict', `Index already exists with a different name: ${sameKey.spec.name}`);
      }
      throw new CommandError('IndexKeySpecsConflict', `An existing index has the same name as the requested index: ${spec.name}`);
    }
    const index = new Index(spec);
    for (const [ownerId, doc] of docs) {
      const entry = index.conflict(doc, ownerId);
      if (entry) throw duplicateKeyError(ns, spec, entry.values);
      index.add(doc, ownerId);
    }
    this.indexes.push(index);
    return true;
  }

  drop(name: string): void {
    this.indexes.splice(this.indexes.findIndex((i) => i.spec.name === name), 1);
  }

  dropAllButId(): void {
    this.indexes.splice(1);
  }

  get size(): number {
    return this.indexes.length;
  }
}

function optionsOf(spec: IndexSpec): Document {
  return { unique: spec.unique === true, sparse: spec.sparse === true, partial: spec.partialFilterExpression ?? null };
}
