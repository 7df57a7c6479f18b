import { orderKey, RecordedEvent } from '../../src/contracts';
import type { DeadLetter, StoredDocument, ViewChange } from '../view-store/view-store';
import type { Projection, ProjectionHandler, ViewDocument } from './projection';

export interface BatchOutcome {
  changes: ViewChange[];
  deadLetters: DeadLetter[];
  /** Events that changed at least one document, and events that changed none. */
  applied: number;
  skipped: number;
}

/** Which documents a batch touches, per collection: loaded in one read each (no N+1). */
export function documentsTouched(projection: Projection, events: RecordedEvent[], rename = (c: string) => c) {
  const wanted = new Map<string, Set<string>>();
  for (const event of events) {
    for (const handler of projection.handlers[event.type] ?? []) {
      const collection = rename(handler.collection);
      if (!wanted.has(collection)) wanted.set(collection, new Set());
      wanted.get(collection)!.add(handler.documentId(event));
    }
  }
  return wanted;
}

/**
 * Applies events in order to the loaded documents. A document's `applied` key guards it:
 * an event at or before it changes nothing (redelivery, replay, restart after a crash).
 * A handler that throws is retried `maxAttempts` times, then the event is dead-lettered
 * and the batch goes on.
 */
export function applyBatch(
  projection: Projection,
  events: RecordedEvent[],
  loaded: Map<string, Map<string, StoredDocument>>,
  options: { maxAttempts: number; rename?: (collection: string) => string; now?: () => Date },
): BatchOutcome {
  const rename = options.rename ?? ((c: string) => c);
  const current = new Map<string, { doc: ViewDocument | null | undefined; applied: string; dirty: boolean }>();
  const deadLetters: DeadLetter[] = [];
  let applied = 0;
  let skipped = 0;
  const slot = (collection: string, id: string) => {
    const key = `${collection}\u0000${id}`;
    let entry = current.get(key);
    if (!entry) {
      const stored = loaded.get(collection)?.get(id);
      entry = { doc: stored?.doc, applied: stored?.applied ?? '', dirty: false };
      current.set(key, entry);
    }
    return entry;
  };

  for (const event of events) {
    const key = orderKey(event.txId, event.position);
    // The runtime sees every handler as documents in, documents out.
    const handlers = (projection.handlers[event.type] ?? []) as ProjectionHandler<RecordedEvent, ViewDocument>[];
    let lastError: unknown;
    let attempts = 0;
    // Handlers are pure, so a batch of new documents is computed first and kept only if all succeed.
    for (; attempts < options.maxAttempts; attempts++) {
      try {
        const updates = handlers.map((handler) => {
          const collection = rename(handler.collection);
          const id = handler.documentId(event);
          const entry = slot(collection, id);
          if (entry.applied >= key) return undefined;
          const doc = handler.apply(entry.doc ?? undefined, event);
          return doc === undefined ? undefined : { entry, doc };
        });
        for (const update of updates) {
          if (!update) continue;
          update.entry.doc = update.doc;
          update.entry.applied = key;
          update.entry.dirty = true;
        }
        if (updates.some(Boolean)) applied++;
        else skipped++;
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (lastError !== undefined) {
      deadLetters.push({
        eventId: event.eventId,
        projection: projection.name,
        orderKey: key,
        event: event as unknown as Record<string, unknown>,
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown non-Error is recorded as String shows it
        error: lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError),
        attempts,
        failedAt: (options.now ?? (() => new Date()))(),
      });
    }
  }

  const changes: ViewChange[] = [];
  for (const [key, entry] of current) {
    if (!entry.dirty) continue;
    const [collection, id] = key.split('\u0000');
    changes.push({ collection, id, doc: entry.doc ?? null, applied: entry.applied });
  }
  return { changes, deadLetters, applied, skipped };
}
