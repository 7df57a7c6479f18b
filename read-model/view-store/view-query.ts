/** What a valid collection name, schema, query and batch of changes is: one definition for every adapter. */
import type { FieldType, FilterCondition, FilterOperator, ViewChange, ViewQuery, ViewSchema } from './view-store';

/** A query, schema or collection name the store refuses: the query API answers it with 400. */
export class InvalidViewQueryError extends Error {
  override name = 'InvalidViewQueryError';
}

const COLLECTION_NAME = /^[a-z0-9_]{1,48}$/;
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
const OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'contains'];
/** The document id is always queryable, as a string, under this name. */
export const ID_FIELD = 'id';

export type ScalarValue = string | number | boolean;

export interface ResolvedCondition {
  field: string;
  type: FieldType;
  op: FilterOperator;
  value: ScalarValue | ScalarValue[];
}

export interface ResolvedQuery {
  filter: ResolvedCondition[];
  sort: { field: string; type: FieldType; direction: 'asc' | 'desc' };
  after?: { value: ScalarValue | null; id: string };
  limit: number;
}

export function checkCollectionName(name: string): string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new InvalidViewQueryError(`invalid view collection name ${JSON.stringify(name)}: expected [a-z0-9_]{1,48}`);
  }
  return name;
}

export function checkSchema(schema: ViewSchema): ViewSchema {
  checkCollectionName(schema.collection);
  for (const [field, type] of Object.entries(schema.fields)) {
    if (!FIELD_PATH.test(field) || field === ID_FIELD) {
      throw new InvalidViewQueryError(`invalid field "${field}" in view ${schema.collection}: expected a dotted path of [A-Za-z][A-Za-z0-9_]*, not "id"`);
    }
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      throw new InvalidViewQueryError(`invalid type for field "${field}" in view ${schema.collection}`);
    }
  }
  return schema;
}

function fieldType(collection: string, schema: ViewSchema | undefined, field: unknown): FieldType {
  if (field === ID_FIELD) return 'string';
  if (typeof field === 'string' && schema && Object.prototype.hasOwnProperty.call(schema.fields, field)) {
    return schema.fields[field];
  }
  throw new InvalidViewQueryError(
    `field ${JSON.stringify(field)} is not declared for view ${collection}` +
      (schema ? '' : ' (the view has no declared schema: its projection creates it with ensureCollection)'),
  );
}

function isOfType(type: FieldType, value: unknown): value is ScalarValue {
  return type === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === type;
}

function checkValue(collection: string, field: string, type: FieldType, value: unknown): ScalarValue {
  if (!isOfType(type, value)) {
    throw new InvalidViewQueryError(`value for ${collection}.${field} must be a ${type}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function resolveFilter(
  collection: string,
  schema: ViewSchema | undefined,
  filter: FilterCondition[] = [],
): ResolvedCondition[] {
  if (!Array.isArray(filter)) throw new InvalidViewQueryError('filter must be a list of conditions');
  return filter.map(({ field, op, value }) => {
    const type = fieldType(collection, schema, field);
    if (!OPERATORS.includes(op)) throw new InvalidViewQueryError(`unknown filter operator ${JSON.stringify(op)}`);
    if (op === 'in') {
      if (!Array.isArray(value)) throw new InvalidViewQueryError(`"in" on ${collection}.${field} takes a list`);
      return { field, type, op, value: value.map((item) => checkValue(collection, field, type, item)) };
    }
    if (op === 'contains' && type !== 'string') {
      throw new InvalidViewQueryError(`"contains" needs a string field; ${collection}.${field} is a ${type}`);
    }
    return { field, type, op, value: checkValue(collection, field, type, value) };
  });
}

export function resolveQuery(collection: string, schema: ViewSchema | undefined, query: ViewQuery): ResolvedQuery {
  checkCollectionName(collection);
  if (!Number.isInteger(query.limit) || query.limit < 1) {
    throw new InvalidViewQueryError(`limit must be a positive integer, got ${JSON.stringify(query.limit)}`);
  }
  const sortField = query.sort?.field ?? ID_FIELD;
  const direction = query.sort?.direction ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') throw new InvalidViewQueryError('sort direction must be asc or desc');
  const sort = { field: sortField, type: fieldType(collection, schema, sortField), direction };
  let after: ResolvedQuery['after'];
  if (query.after !== undefined) {
    const { value, id } = query.after;
    if (typeof id !== 'string') throw new InvalidViewQueryError('cursor id must be a string');
    after = { value: value === null ? null : checkValue(collection, sortField, sort.type, value), id };
  }
  return { filter: resolveFilter(collection, schema, query.filter), sort, after, limit: query.limit };
}

/**
 * Calls `use` with the collection's schema from the cache, re-reading it from the store when
 * it is not cached or `use` refuses the query (another process may have declared more fields since).
 */
export async function withSchema<R>(
  cache: Map<string, ViewSchema>,
  collection: string,
  load: () => Promise<ViewSchema | undefined>,
  use: (schema: ViewSchema | undefined) => R,
): Promise<R> {
  const cached = cache.get(collection);
  if (cached) {
    try {
      return use(cached);
    } catch (error) {
      if (!(error instanceof InvalidViewQueryError)) throw error;
    }
  }
  const loaded = await load();
  if (loaded) cache.set(collection, loaded);
  else cache.delete(collection);
  return use(loaded);
}

/**
 * The batch's changes grouped by collection, one per document: the one with the greatest
 * order key (the first of equals), which is what applying them one by one with the guard leaves.
 */
export function latestChanges(changes: ViewChange[]): Map<string, ViewChange[]> {
  const latest = new Map<string, ViewChange>();
  for (const change of changes) {
    checkCollectionName(change.collection);
    if (typeof change.id !== 'string' || typeof change.applied !== 'string') {
      throw new InvalidViewQueryError(`view change for ${change.collection} needs a string id and order key`);
    }
    const key = `${change.collection}\u0000${change.id}`;
    const seen = latest.get(key);
    if (!seen || seen.applied < change.applied) latest.set(key, change);
  }
  const grouped = new Map<string, ViewChange[]>();
  for (const change of latest.values()) {
    const list = grouped.get(change.collection) ?? [];
    list.push(change);
    grouped.set(change.collection, list);
  }
  return grouped;
}
