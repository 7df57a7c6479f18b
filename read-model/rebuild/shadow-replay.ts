import { orderKey, RecordedEvent } from '../../src/contracts';
import { applyBatch, documentsTouched } from '../projector/apply-batch';
import type { Projection } from '../projector/projection';
import type { Checkpoint, StoredDocument, ViewStore } from '../view-store/view-store';
import { shadowCollection, shadowName } from './shadow';

/** Documents kept between batches: hot documents (a busy sku, a day's sales) are read from the store once. */
const CACHE_LIMIT = 50_000;

/**
 * Applies log batches to the shadow collections: one getMany per collection for documents not
 * in the cache, the projection's pure handlers, and one commit per batch with the shadow
 * checkpoint. A batch is applied while the previous one is still being committed; that is safe
 * because every document the previous batch changed is served from the cache, and this
 * process is the shadow's only writer (the lease).
 */
export class ShadowReplay {
  private readonly cache = new Map<string, StoredDocument | null>();
  private inFlight: Promise<void> = Promise.resolve();
  private readonly rename: (collection: string) => string;

  constructor(
    private readonly projection: Projection,
    private readonly store: ViewStore,
    private readonly maxAttempts: number,
  ) {
    this.rename = (collection) => shadowCollection(projection, collection);
  }

  /** Applies the batch and starts its commit; resolves once it is applied and the previous commit is done. */
  async apply(events: RecordedEvent[]): Promise<Omit<Checkpoint, 'projection' | 'updatedAt'>> {
    const loaded = await this.load(events);
    const outcome = applyBatch(this.projection, events, loaded, { maxAttempts: this.maxAttempts, rename: this.rename });
    for (const change of outcome.changes) {
      this.remember(change.collection, change.id, change.doc && { id: change.id, doc: change.doc, applied: change.applied });
    }
    this.trim(new Set(outcome.changes.map((c) => `${c.collection}\u0000${c.id}`)));
    const last = events[events.length - 1];
    const checkpoint = {
      orderKey: orderKey(last.txId, last.position),
      position: last.position,
      eventRecordedAt: new Date(last.recordedAt),
      pending: 0,
    };
    await this.inFlight;
    const deadLetters = outcome.deadLetters.map((d) => ({ ...d, projection: shadowName(this.projection) }));
    this.inFlight = this.store.commit({ projection: shadowName(this.projection), changes: outcome.changes, deadLetters, checkpoint });
    // A failed commit surfaces at the next apply() or flush(); never as an unhandled rejection.
    this.inFlight.catch(() => undefined);
    return checkpoint;
  }

  /** Waits for the last commit: after it the shadow checkpoint covers every applied batch. */
  flush(): Promise<void> {
    return this.inFlight;
  }

  private async load(events: RecordedEvent[]): Promise<Map<string, Map<string, StoredDocument>>> {
    const loaded = new Map<string, Map<string, StoredDocument>>();
    await Promise.all(
      [...documentsTouched(this.projection, events, this.rename)].map(async ([collection, ids]) => {
        const documents = new Map<string, StoredDocument>();
        const missing: string[] = [];
        for (const id of ids) {
          const key = `${collection}\u0000${id}`;
          if (!this.cache.has(key)) missing.push(id);
          else if (this.cache.get(key)) documents.set(id, this.cache.get(key)!);
        }
        if (missing.length) {
          const found = await this.store.getMany(collection, missing);
          for (const id of missing) {
            const stored = found.get(id);
            if (stored) documents.set(id, stored);
            this.remember(collection, id, stored ?? null);
          }
        }
        loaded.set(collection, documents);
      }),
    );
    return loaded;
  }

  /** A deleted or absent document is cached as null: getMany would not return it either. */
  private remember(collection: string, id: string, stored: StoredDocument | null): void {
    const key = `${collection}\u0000${id}`;
    this.cache.delete(key);
    this.cache.set(key, stored && { id, doc: stored.doc, applied: stored.applied });
  }

  /** Oldest first, but never the batch's own changes: the commit that writes them may still be in flight. */
  private trim(keep: Set<string>): void {
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= CACHE_LIMIT) break;
      if (!keep.has(oldest)) this.cache.delete(oldest);
    }
  }
}
