import type { RecordedEvent } from '../../src/contracts';
import type { StoredDocument } from '../view-store/view-store';
import { applyBatch } from './apply-batch';
import type { Projection } from './projection';

/**
 * Applies a whole event log to empty views in memory: what a projection's views must
 * equal once it has caught up. Used to check convergence after crashes and replays.
 */
export function projectFromScratch(projection: Projection, events: RecordedEvent[]): Map<string, Map<string, StoredDocument>> {
  const views = new Map<string, Map<string, StoredDocument>>();
  const outcome = applyBatch(projection, events, views, { maxAttempts: 1 });
  for (const change of outcome.changes) {
    if (!views.has(change.collection)) views.set(change.collection, new Map());
    if (change.doc) views.get(change.collection)!.set(change.id, { id: change.id, doc: change.doc, applied: change.applied });
  }
  return views;
}
