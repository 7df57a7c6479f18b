import { isDeepStrictEqual } from 'node:util';
import { orderKey, ORIGIN_ORDER_KEY, RecordedEvent } from '../../src/contracts';
import type { Projection } from '../projector/projection';
import { MemoryViews, ViewBatches } from '../projector/view-batches';
import type { StoredDocument, ViewStore } from '../view-store/view-store';
import type { EventLog } from '../../src/contracts';
import type { Position } from './rebuild';

export interface Difference {
  collection: string;
  id: string;
  /** What a replay of the log gives (null: no such document); bookkeeping (applied keys) left out. */
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
}

export interface VerifyResult {
  projection: string;
  /** The live checkpoint the fresh copy was built to; null when the projection has none. */
  checkpoint: Position | null;
  /** Live documents compared. */
  documents: number;
  /** Live documents that had moved past the checkpoint while being read, compared at their own position. */
  movedOn: number;
  differences: Difference[];
}

/**
 * Compares the live view with a fresh copy built in memory from the log up to the live
 * checkpoint K. The projector keeps running meanwhile, so a live document whose order key
 * is past K is compared with the copy at that key instead (the log replayed that far): a
 * document must always equal the log's replay at the point it claims to have applied.
 */
export async function verifyProjection(options: {
  projection: Projection;
  store: ViewStore;
  log: EventLog;
  batchSize?: number;
}): Promise<VerifyResult> {
  const { projection, store, log } = options;
  const batchSize = options.batchSize ?? 5000;
  const checkpoint = await store.checkpoint(projection.name);
  const upTo = checkpoint?.orderKey ?? ORIGIN_ORDER_KEY;
  const types = Object.keys(projection.handlers);
  const fresh = new MemoryViews();
  const model = fresh.collections;
  const batches = new ViewBatches({ projection, target: fresh, maxAttempts: 1 });
  const apply = async (events: RecordedEvent[]) => {
    if (!events.length) return;
    await batches.apply(events, ViewBatches.checkpointAfter(events));
    await batches.flush();
  };
  let cursor = ORIGIN_ORDER_KEY;
  for (;;) {
    const events = (await log.readAfter(cursor, batchSize, types)).filter((e) => keyOf(e) <= upTo);
    if (!events.length) break;
    await apply(events);
    cursor = keyOf(events[events.length - 1]);
  }

  const differences: Difference[] = [];
  const movedOn: { collection: string; live: StoredDocument }[] = [];
  const seen = new Set<string>();
  let documents = 0;
  const existing = new Set(await store.listCollections());
  for (const view of projection.views) {
    // A projection that never ran has no collection yet: its live view is empty.
    if (!existing.has(view.collection)) continue;
    for await (const live of allDocuments(store, view.collection)) {
      documents += 1;
      seen.add(slot(view.collection, live.id));
      if (live.applied > upTo) movedOn.push({ collection: view.collection, live });
      else compare(differences, view.collection, live.id, model.get(view.collection)?.get(live.id), live);
    }
  }
  const missing = [...model].flatMap(([collection, docs]) =>
    [...docs.values()].filter((d) => !seen.has(slot(collection, d.id))).map((d) => ({ collection, id: d.id })),
  );

  // Replays on past K: each moved document is compared once the replay reaches its key; a
  // document missing from the live view counts only if the log still has it at the end.
  movedOn.sort((a, b) => (a.live.applied < b.live.applied ? -1 : a.live.applied > b.live.applied ? 1 : 0));
  let next = 0;
  const compareMovedBefore = (key: string | undefined) => {
    for (; next < movedOn.length && (key === undefined || movedOn[next].live.applied < key); next++) {
      const { collection, live } = movedOn[next];
      compare(differences, collection, live.id, model.get(collection)?.get(live.id), live);
    }
  };
  for (let after = upTo; missing.length || movedOn.length; ) {
    const events = await log.readAfter(after, batchSize, types);
    let from = 0;
    for (let i = 0; i < events.length; i++) {
      if (next >= movedOn.length || movedOn[next].live.applied >= keyOf(events[i])) continue;
      await apply(events.slice(from, i));
      from = i;
      compareMovedBefore(keyOf(events[i]));
    }
    await apply(events.slice(from));
    if (events.length < batchSize) break;
    after = keyOf(events[events.length - 1]);
  }
  // Keys past the end of the log: the document claims events that do not exist.
  compareMovedBefore(undefined);
  for (const { collection, id } of missing) {
    const expected = model.get(collection)?.get(id);
    if (expected && !(await store.get(collection, id))) differences.push({ collection, id, expected: plain(expected.doc), actual: null });
  }
  return {
    projection: projection.name,
    checkpoint: checkpoint ? { orderKey: checkpoint.orderKey, position: checkpoint.position } : null,
    documents,
    movedOn: movedOn.length,
    differences,
  };
}

function compare(differences: Difference[], collection: string, id: string, expected: StoredDocument | undefined, live: StoredDocument): void {
  const want = expected ? plain(expected.doc) : null;
  const have = plain(live.doc);
  if (!isDeepStrictEqual(want, have)) differences.push({ collection, id, expected: want, actual: have });
}

/** What the stores keep of a document: JSON, so undefined fields and key order do not count. */
function plain(doc: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

async function* allDocuments(store: ViewStore, collection: string): AsyncGenerator<StoredDocument> {
  let after: { value: string; id: string } | undefined;
  for (;;) {
    const page = await store.find(collection, { limit: 1000, after });
    yield* page;
    if (page.length < 1000) return;
    const last = page[page.length - 1].id;
    after = { value: last, id: last };
  }
}

function slot(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

function keyOf(event: RecordedEvent): string {
  return orderKey(event.txId, event.position);
}
