import { orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../../src/contracts';
import type { DeadLetter, ViewStore } from '../view-store/view-store';
import { documentsTouched } from './apply-batch';
import type { Projection } from './projection';
import { ViewBatches } from './view-batches';

export interface DeadLetterRetry {
  /** Why the event still fails; the dead letter should be kept. */
  failed?: string;
  /** Documents (collection/id) the event was applied to. */
  applied: string[];
  /** Documents already past the event: the guard leaves them, so the retry cannot add it there. */
  superseded: string[];
}

/**
 * Applies a dead-lettered event once more to the live view, through the projector's batch
 * runtime and its per-document guard. Which documents changed is read back afterwards, since
 * the live projector may write meanwhile. Removing the dead letter is the caller's choice.
 */
export async function retryDeadLetter(store: ViewStore, projection: Projection, letter: DeadLetter): Promise<DeadLetterRetry> {
  const event = letter.event as unknown as RecordedEvent;
  try {
    documentsTouched(projection, [event]);
  } catch (error) {
    // Not even the documents it touches can be told: the event is as broken as when it was dead-lettered.
    return { failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error), applied: [], superseded: [] };
  }
  for (const view of projection.views) await store.ensureCollection(view);
  // The checkpoint is passed as it stands: a commit never moves it back, and a retry is not progress.
  const current = await store.checkpoint(projection.name);
  const checkpoint = current
    ? { orderKey: current.orderKey, position: current.position, eventRecordedAt: current.eventRecordedAt, pending: current.pending }
    : { orderKey: ORIGIN_ORDER_KEY, position: 0, eventRecordedAt: null, pending: 0 };
  const batches = new ViewBatches({ projection, target: store, maxAttempts: 1 });
  const prepared = await batches.prepare([event]);
  const { outcome, loaded } = prepared;
  if (outcome.deadLetters.length) return { failed: outcome.deadLetters[0].error, applied: [], superseded: [] };
  if (outcome.changes.length) await batches.commit(prepared, checkpoint);
  const key = orderKey(event.txId, event.position);
  const superseded = [...loaded].flatMap(([collection, docs]) =>
    [...docs.values()].filter((d) => d.applied >= key).map((d) => `${collection}/${d.id}`),
  );
  const applied: string[] = [];
  for (const change of outcome.changes) {
    const stored = await store.get(change.collection, change.id);
    const name = `${change.collection}/${change.id}`;
    if (stored?.applied === change.applied || (change.doc === null && !stored)) applied.push(name);
    else superseded.push(name); // the live projector moved it past the event meanwhile
  }
  return { applied, superseded };
}
