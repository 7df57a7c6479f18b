import { orderKey, RecordedEvent } from '../../src/contracts';
import type { Checkpoint, CommitBatch, LeaseFence, StoredDocument, ViewStore } from '../view-store/view-store';
import { applyBatch, BatchOutcome, documentsTouched } from './apply-batch';
import type { Projection } from './projection';

/** Where a batch's documents are read from and committed to: a view store, or memory (MemoryViews). */
export type BatchTarget = Pick<ViewStore, 'getMany' | 'commit'>;

export type BatchCheckpoint = Omit<Checkpoint, 'projection' | 'updatedAt'>;

export type LoadedDocuments = Map<string, Map<string, StoredDocument>>;

export interface PreparedBatch {
  outcome: BatchOutcome;
  /** The documents the batch read, as they were before it. */
  loaded: LoadedDocuments;
}

export interface AppliedBatch extends PreparedBatch {
  /** Resolves once this batch's changes and checkpoint are committed (rejects if the commit failed). */
  committed: Promise<void>;
}

export interface ViewBatchesOptions {
  projection: Projection;
  target: BatchTarget;
  maxAttempts: number;
  /** The name the checkpoint and dead letters are kept under: the projection's own, or its shadow's. */
  checkpointName?: string;
  /** Collection names written: the live views by default, shadow names for a rebuild. */
  rename?: (collection: string) => string;
  /**
   * Documents kept in memory once their batch is committed, so hot ones are read once. Only
   * for a sole writer (a rebuild's shadow): another writer's changes would not be seen.
   * Default 0: only the documents of batches not yet committed are kept.
   */
  keepDocuments?: number;
  /** The writer's projection lease, carried by every commit (the store refuses it once lost). */
  fence?: LeaseFence;
  /** Runs each store call; the projector retries them with backoff. */
  attempt?: <T>(what: 'load' | 'commit', work: () => Promise<T>) => Promise<T>;
}

/**
 * The one runtime for "load the documents this batch touches, apply the projection's
 * handlers, commit the changes with the checkpoint", shared by the live projector,
 * rebuild's shadow replay, dead-letter retry and verify (in memory). A batch may be applied
 * while the one before is still being committed: the documents that batch changed are taken
 * from memory (the store does not have them yet), and commits land one after the other.
 */
export class ViewBatches {
  /** collection\0id → the document as the applied batches leave it (null: none). */
  private readonly documents = new Map<string, StoredDocument | null>();
  /** Documents changed by batches whose commit has not landed, with how many such batches. */
  private readonly uncommitted = new Map<string, number>();
  private committing: Promise<void> = Promise.resolve();
  /** The commit queued before the latest one. */
  private previous: Promise<void> = Promise.resolve();
  private readonly rename: (collection: string) => string;
  private readonly checkpointName: string;
  private readonly keep: number;

  constructor(private readonly options: ViewBatchesOptions) {
    this.rename = options.rename ?? ((collection) => collection);
    this.checkpointName = options.checkpointName ?? options.projection.name;
    this.keep = options.keepDocuments ?? 0;
  }

  /**
   * Applies the events and queues their commit with `checkpoint` behind the previous batch's.
   * Resolves once the batch is applied and the previous commit has landed (so at most one
   * commit is in flight); throws if that previous commit failed.
   */
  async apply(events: RecordedEvent[], checkpoint: BatchCheckpoint): Promise<AppliedBatch> {
    return this.enqueue(await this.prepare(events), checkpoint);
  }

  /** apply() for a batch already prepared: queues its commit, then waits for the previous one. */
  async enqueue(prepared: PreparedBatch, checkpoint: BatchCheckpoint): Promise<AppliedBatch> {
    const committed = this.commit(prepared, checkpoint);
    await this.previous;
    return { ...prepared, committed };
  }

  /** Loads the documents the events touch and applies the handlers; writes nothing. */
  async prepare(events: RecordedEvent[]): Promise<PreparedBatch> {
    const { projection, maxAttempts } = this.options;
    const loaded = await this.attempt('load', () => this.load(events));
    const outcome = applyBatch(projection, events, loaded, { maxAttempts, rename: this.rename });
    return { outcome, loaded };
  }

  /** Queues the commit of a prepared batch (the latest one prepared) behind the previous commit. */
  commit({ outcome }: PreparedBatch, checkpoint: BatchCheckpoint): Promise<void> {
    const keys = outcome.changes.map((change) => {
      const key = slot(change.collection, change.id);
      this.documents.delete(key); // re-inserted last: the most recently used are trimmed last
      this.documents.set(key, change.doc && { id: change.id, doc: change.doc, applied: change.applied });
      this.uncommitted.set(key, (this.uncommitted.get(key) ?? 0) + 1);
      return key;
    });
    const batch: CommitBatch = {
      projection: this.checkpointName,
      changes: outcome.changes,
      deadLetters: outcome.deadLetters.map((letter) => ({ ...letter, projection: this.checkpointName })),
      checkpoint,
      ...(this.options.fence && { fence: this.options.fence }),
    };
    this.previous = this.committing;
    const committed = this.previous.then(() => this.attempt('commit', () => this.options.target.commit(batch)));
    this.committing = committed.finally(() => this.landed(keys));
    this.committing.catch(() => undefined); // surfaces at the next apply() or flush(), never unhandled
    committed.catch(() => undefined);
    return committed;
  }

  /** Resolves once every queued commit has landed; throws if one failed. */
  flush(): Promise<void> {
    return this.committing;
  }

  /** Waits for queued commits (ignoring their failure) and forgets every document held in memory. */
  async reset(): Promise<void> {
    await this.committing.catch(() => undefined);
    this.documents.clear();
    this.uncommitted.clear();
    this.committing = Promise.resolve();
    this.previous = Promise.resolve();
  }

  /** The position a batch ends at: its last event, in the relay's order. */
  static checkpointAfter(events: RecordedEvent[], pending = 0): BatchCheckpoint {
    const last = events[events.length - 1];
    return { orderKey: orderKey(last.txId, last.position), position: last.position, eventRecordedAt: new Date(last.recordedAt), pending };
  }

  private attempt<T>(what: 'load' | 'commit', work: () => Promise<T>): Promise<T> {
    return this.options.attempt ? this.options.attempt(what, work) : work();
  }

  private async load(events: RecordedEvent[]): Promise<LoadedDocuments> {
    const loaded: LoadedDocuments = new Map();
    await Promise.all(
      [...documentsTouched(this.options.projection, events, this.rename)].map(async ([collection, ids]) => {
        const documents = new Map<string, StoredDocument>();
        const missing: string[] = [];
        for (const id of ids) {
          const key = slot(collection, id);
          if (!this.documents.has(key)) missing.push(id);
          else if (this.documents.get(key)) documents.set(id, this.documents.get(key)!);
        }
        if (missing.length) {
          const found = await this.options.target.getMany(collection, missing);
          for (const id of missing) {
            const stored = found.get(id);
            if (stored) documents.set(id, stored);
            if (this.keep > 0) this.documents.set(slot(collection, id), stored ?? null);
          }
        }
        loaded.set(collection, documents);
      }),
    );
    return loaded;
  }

  /** A batch's commit is over: its documents may leave memory once no later uncommitted batch holds them. */
  private landed(keys: string[]): void {
    for (const key of keys) {
      const count = (this.uncommitted.get(key) ?? 1) - 1;
      if (count > 0) this.uncommitted.set(key, count);
      else this.uncommitted.delete(key);
    }
    for (const key of this.documents.keys()) {
      if (this.documents.size <= this.keep) break;
      if (!this.uncommitted.has(key)) this.documents.delete(key);
    }
  }
}

/** Views held in memory: what verify folds the log into, and a from-scratch build to compare with. */
export class MemoryViews implements BatchTarget {
  readonly collections = new Map<string, Map<string, StoredDocument>>();
  checkpoint?: BatchCheckpoint;

  get(collection: string, id: string): StoredDocument | undefined {
    return this.collections.get(collection)?.get(id);
  }

  getMany(collection: string, ids: string[]): Promise<Map<string, StoredDocument>> {
    const documents = new Map<string, StoredDocument>();
    for (const id of ids) {
      const stored = this.get(collection, id);
      if (stored) documents.set(id, stored);
    }
    return Promise.resolve(documents);
  }

  commit(batch: CommitBatch): Promise<void> {
    for (const { collection, id, doc, applied } of batch.changes) {
      if (!this.collections.has(collection)) this.collections.set(collection, new Map());
      // Deleted documents leave the views, as they leave getMany's answers in a store.
      if (doc) this.collections.get(collection)!.set(id, { id, doc, applied });
      else this.collections.get(collection)!.delete(id);
    }
    this.checkpoint = batch.checkpoint;
    return Promise.resolve();
  }
}

/** Applies events to empty views in memory: what a projection's views must equal once it has applied them. */
export async function projectInMemory(projection: Projection, events: RecordedEvent[], views = new MemoryViews()): Promise<MemoryViews> {
  if (!events.length) return views;
  const batches = new ViewBatches({ projection, target: views, maxAttempts: 1 });
  await batches.apply(events, ViewBatches.checkpointAfter(events));
  await batches.flush();
  return views;
}

function slot(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
