import { collectionName, Projection } from '../projector/projection';
import type { Checkpoint, DeadLetter, ViewSchema, ViewStore } from '../view-store/view-store';

/** Suffix of the collections a rebuild writes: `<collection>__rebuild`. */
export const SHADOW = 'rebuild';

/** The shadow's checkpoint and dead letters live under this name, apart from the live projection's. */
export function shadowName(projection: Projection): string {
  return `${projection.name}@${SHADOW}`;
}

export function shadowCollection(projection: Projection, collection: string): string {
  return collectionName(projection, collection, SHADOW);
}

export function shadowViews(projection: Projection): ViewSchema[] {
  return projection.views.map((view) => ({ ...view, collection: shadowCollection(projection, view.collection) }));
}

/** Where a rebuild stands in the read store: its checkpoint, and whether every shadow collection exists. */
export async function shadowState(store: ViewStore, projection: Projection) {
  const [checkpoint, collections] = await Promise.all([store.checkpoint(shadowName(projection)), store.listCollections()]);
  const present = shadowViews(projection).filter((view) => collections.includes(view.collection));
  return { checkpoint, complete: present.length === projection.views.length, present: present.map((v) => v.collection) };
}

/**
 * Prepares the shadow collections and returns the checkpoint to resume after. A shadow is
 * resumed only when its checkpoint and every collection exist; anything else (a first run, a
 * crash in the middle of a swap, a shadow dropped by hand) starts again from the beginning.
 */
export async function openShadow(store: ViewStore, projection: Projection, fresh = false): Promise<Checkpoint | undefined> {
  const state = await shadowState(store, projection);
  const resume = state.checkpoint && state.complete && !fresh ? state.checkpoint : undefined;
  if (!resume) await discardShadow(store, projection);
  // Also on resume: a newer version of the projection may declare more fields.
  for (const view of shadowViews(projection)) await store.ensureCollection(view);
  return resume;
}

export async function discardShadow(store: ViewStore, projection: Projection): Promise<void> {
  for (const view of shadowViews(projection)) await store.dropCollection(view.collection);
  await store.deleteCheckpoint(shadowName(projection));
  for (const letter of await store.deadLetters(shadowName(projection))) {
    await store.deleteDeadLetter(letter.projection, letter.eventId);
  }
}

/**
 * Puts the shadow in place of the live views: each collection by one atomic rename, then the
 * live checkpoint moves to the shadow's (it only ever moves forward) and the live dead letters
 * up to it become the rebuild's. The caller holds the log frozen (see rebuild.ts for why).
 */
export async function swapShadow(
  store: ViewStore,
  projection: Projection,
  at: Omit<Checkpoint, 'projection' | 'updatedAt'> | undefined,
): Promise<{ deadLetters: number }> {
  for (const view of projection.views) await store.renameCollection(shadowCollection(projection, view.collection), view.collection);
  const rebuilt = await store.deadLetters(shadowName(projection));
  const upTo = at?.orderKey ?? '';
  const replaced = new Set(rebuilt.map((d) => d.eventId));
  // Live dead letters the rebuild got past are events the new view holds: they are no longer dead.
  for (const letter of await store.deadLetters(projection.name)) {
    if (letter.orderKey <= upTo && !replaced.has(letter.eventId)) await store.deleteDeadLetter(projection.name, letter.eventId);
  }
  if (at) {
    const deadLetters: DeadLetter[] = rebuilt.map((d) => ({ ...d, projection: projection.name }));
    await store.commit({ projection: projection.name, changes: [], deadLetters, checkpoint: at });
  }
  await store.deleteCheckpoint(shadowName(projection));
  for (const letter of rebuilt) await store.deleteDeadLetter(letter.projection, letter.eventId);
  return { deadLetters: rebuilt.length };
}
