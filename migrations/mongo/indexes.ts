/**
 * MongoDB index definitions of the read store, kept as data beside the SQL migrations.
 * The store applies them idempotently (createIndexes with the same name and key is a no-op).
 */
import type { IndexDescription } from 'mongodb';
import type { ViewSchema } from '../../read-model/view-store/view-store';

/** Dotted names cannot clash with view collections, whose names are [a-z0-9_]+. */
export const CHECKPOINTS_COLLECTION = 'converge.checkpoints';
export const DEAD_LETTERS_COLLECTION = 'converge.dead_letters';
/** Each view's declared fields, keyed by collection name (the _id): no further index needed. */
export const SCHEMAS_COLLECTION = 'converge.view_schemas';
/** Leases of projections and replicas' membership, keyed by lease name (the _id): no further index needed. */
export const LEASES_COLLECTION = 'converge.leases';

/** The unique keys make the guarded upserts safe: a stale checkpoint write fails instead of adding a second one. */
export const fixedIndexes: Record<string, IndexDescription[]> = {
  [CHECKPOINTS_COLLECTION]: [{ key: { projection: 1 }, name: 'projection_unique', unique: true }],
  [DEAD_LETTERS_COLLECTION]: [
    { key: { projection: 1, eventId: 1 }, name: 'projection_event_unique', unique: true },
    { key: { projection: 1, orderKey: 1, eventId: 1 }, name: 'projection_order' },
  ],
};

/** One index per declared field, with _id second: it serves the filter and the keyset sort with its tiebreak. */
export function indexesFor(schema: ViewSchema): IndexDescription[] {
  return Object.keys(schema.fields).map((field) => ({ key: { [field]: 1, _id: 1 }, name: `${field}_1__id_1` }));
}
