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
  /** The writer's lease: the commit lands only while that lease is held and unexpired (LeaseLostError otherwise). */
  fence?: LeaseFence;
}

/**
 * A lease on a piece of work with one owner at a time (a projection), kept in the read store
 * so that the store itself can refuse a commit from an owner that lost it (fencing). The
 * token grows by one at every change of owner.
 */
export interface Lease {
  name: string;
  /** The holding process instance (replica id, pid and a random part: unique per start). */
  owner: string;
  token: number;
  acquiredAt: Date;
  renewedAt: Date;
  expiresAt: Date;
}

/** What a commit carries to prove its writer still holds the lease. */
export interface LeaseFence {
  name: string;
  token: number;
}

/** A commit or renewal by an owner whose lease expired or passed to another owner. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(readonly fence: LeaseFence) {
    super(`lease ${fence.name} (token ${fence.token}) is no longer held`);
  }
}

/** Leases in the read store: the projector replicas' ownership of projections (see read-model/projector/ownership.ts). */
export interface ViewLeases {
  /** Takes the lease if nobody holds it or it expired (new token); undefined while another owner holds it. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends the lease while `fence` still holds it unexpired; false once it is lost. */
  renewLease(fence: LeaseFence, owner: string, ttlMs: number): Promise<boolean>;
  /** Lets the lease go at once (a graceful stop or handover); a lost lease is left alone. */
  releaseLease(fence: LeaseFence, owner: string): Promise<void>;
  /** Marks `owner` alive until ttl from now, whoever held the name before (membership, no fencing). */
  heartbeat(name: string, owner: string, ttlMs: number): Promise<void>;
  /** Every lease, held or expired, with the store's clock at the time of reading. */
  leases(): Promise<{ leases: Lease[]; now: Date }>;
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

export interface ViewStore extends ViewLeases {
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
  /** How the process names its connections (PostgreSQL application_name unless the URL sets one, MongoDB appName). */
  clientName?: string;
}

/** Nest injection token of the ViewStore the query API reads from. */
export const VIEW_STORE = Symbol('VIEW_STORE');
