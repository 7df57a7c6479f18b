import type { Logger } from '../../src/logger';

/**
 * The read store port. Projections write through it (guarded, batched, with their
 * checkpoint), the query API reads through it, rebuild uses shadow collections and
 * an atomic swap. Two adapters: PostgreSQL jsonb tables and MongoDB.
 */

export type FieldType = 'string' | 'number' | 'boolean';

/** What a view holds and which fields are filtered or sorted on (drives indexes and typed comparisons). */
export interface ViewSchema {
  /** Collection (MongoDB) or table (PostgreSQL) name: [a-z0-9_]+. */
  collection: string;
  /** Dotted paths into the document that queries filter or sort on, with their type. */
  fields: Record<string, FieldType>;
}

/** A view document as stored: its id, its body and the order key of the last event applied to it. */
export interface StoredDocument<D = Record<string, unknown>> {
  id: string;
  doc: D;
  /** Order key (see orderKey in src/contracts) of the last event applied: the idempotency guard. */
  applied: string;
}

export interface ViewChange {
  collection: string;
  id: string;
  /** The whole new document, or null to delete it. */
  doc: Record<string, unknown> | null;
  /** Order key of the last event this change covers; must be greater than the stored one to apply. */
  applied: string;
  /**
   * A repair (the reconciler): applies only if the stored document's order key is still exactly
   * this one, whatever `applied` is, so a document the projector moved on meanwhile is left alone.
   */
  replaces?: string;
}

export interface Checkpoint {
  projection: string;
  /** Order key of the last event the projection has applied (or skipped as not its concern). */
  orderKey: string;
  /** Global position of that event. */
  position: number;
  /** When that event was recorded in the write store. */
  eventRecordedAt: Date | null;
  /** Messages the projection's consumer still had pending when this checkpoint was written. */
  pending: number;
  updatedAt: Date;
}

export interface DeadLetter {
  /** The event id: one dead letter per event and projection. */
  eventId: string;
  projection: string;
  orderKey: string;
  event: Record<string, unknown>;
  error: string;
  attempts: number;
  failedAt: Date;
}

export interface CommitBatch {
  projection: string;
  changes: ViewChange[];
  checkpoint: Omit<Checkpoint, 'projection' | 'updatedAt'>;
  deadLetters?: DeadLetter[];
}

export type FilterOperator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'contains';

export interface FilterCondition {
  field: string;
  op: FilterOperator;
  /** 'in' takes an array; 'contains' a string (case-insensitive substring, taken literally). */
  value: string | number | boolean | (string | number | boolean)[];
}

export interface ViewQuery {
  filter?: FilterCondition[];
  /** One sort field (declared in the schema); the id breaks ties in the same direction. Default: id ascending. */
  sort?: { field: string; direction: 'asc' | 'desc' };
  /** Keyset cursor: the sort field's value and the id of the last document of the previous page. */
  after?: { value: string | number | boolean | null; id: string };
  limit: number;
}

export interface ViewStore {
  /** Creates what the store needs (checkpoint and dead-letter storage); idempotent. */
  init(): Promise<void>;
  /** Creates the collection and its indexes for the declared fields; idempotent. */
  ensureCollection(schema: ViewSchema): Promise<void>;
  close(): Promise<void>;

  get(collection: string, id: string): Promise<StoredDocument | undefined>;
  getMany(collection: string, ids: string[]): Promise<Map<string, StoredDocument>>;
  find(collection: string, query: ViewQuery): Promise<StoredDocument[]>;
  count(collection: string, filter?: FilterCondition[]): Promise<number>;

  /**
   * Writes view changes, dead letters and the checkpoint together: atomically where the
   * store allows it. Each change applies only if its `applied` is greater than the stored
   * one (a replayed or redelivered event changes nothing); the checkpoint only moves forward.
   */
  commit(batch: CommitBatch): Promise<void>;
  checkpoint(projection: string): Promise<Checkpoint | undefined>;
  checkpoints(): Promise<Checkpoint[]>;
  deleteCheckpoint(projection: string): Promise<void>;

  deadLetters(projection?: string): Promise<DeadLetter[]>;
  deadLetter(projection: string, eventId: string): Promise<DeadLetter | undefined>;
  deleteDeadLetter(projection: string, eventId: string): Promise<boolean>;

  dropCollection(collection: string): Promise<void>;
  /** Replaces `to` with `from` in one atomic step (MongoDB: rename with dropTarget). */
  renameCollection(from: string, to: string): Promise<void>;
  listCollections(): Promise<string[]>;
}

export interface ViewStoreOptions {
  logger?: Logger;
  /** PostgreSQL pool size / MongoDB maxPoolSize. */
  maxConnections?: number;
  /** MongoDB database; defaults to the one named in the URL, else "converge". */
  database?: string;
}

/** Nest injection token of the ViewStore the query API reads from. */
export const VIEW_STORE = Symbol('VIEW_STORE');
