import {
  CatalogEvent,
  catalogSchemaVersions,
  InventoryEvent,
  inventorySchemaVersions,
  ORDER_STREAM,
  OrderEvent,
  orderStreamId,
  PRODUCT_STREAM,
  productStreamId,
  RecordedEvent,
  STOCK_STREAM,
  stockStreamId,
} from '../../src/contracts';
import { applyBatch, documentsTouched } from '../../read-model/projector/apply-batch';
import type { Projection, ViewDocument } from '../../read-model/projector/projection';
import type { StoredDocument } from '../../read-model/view-store/view-store';

export type DomainEvent = CatalogEvent | InventoryEvent | OrderEvent;

/** When an event was recorded unless a spec says otherwise: one instant keeps expected documents short. */
export const RECORDED_AT = '2026-03-02T10:00:00.000Z';

/**
 * Records events as the log would: a global position (and its own transaction) in call
 * order, the next version of the event's stream, and a recording time.
 */
export function eventLog() {
  let position = 0;
  const versions = new Map<string, number>();
  return (event: DomainEvent, options: { at?: string } = {}): RecordedEvent => {
    const { streamId, streamType } = streamOf(event);
    const streamVersion = (versions.get(streamId) ?? 0) + 1;
    versions.set(streamId, streamVersion);
    position++;
    return {
      position,
      txId: String(position),
      eventId: `event-${position}`,
      streamId,
      streamType,
      streamVersion,
      type: event.type,
      schemaVersion: 1,
      data: event.data,
      metadata: { correlationId: `correlation-${position}` },
      recordedAt: new Date(options.at ?? RECORDED_AT),
    };
  };
}

function streamOf(event: DomainEvent): { streamId: string; streamType: string } {
  if (event.type in catalogSchemaVersions) {
    return { streamType: PRODUCT_STREAM, streamId: productStreamId((event as CatalogEvent).data.sku) };
  }
  if (event.type in inventorySchemaVersions) {
    return { streamType: STOCK_STREAM, streamId: stockStreamId((event as InventoryEvent).data.sku) };
  }
  return { streamType: ORDER_STREAM, streamId: orderStreamId((event as OrderEvent).data.orderId) };
}

/**
 * Projection specs: given(events) → then(documents). Each batch goes through the runtime's
 * pure applyBatch from empty views, loaded the way the projector loads (the documents the
 * batch touches), and its changes are kept under the stores' guard (newer applied key only).
 */
export function givenEvents(projection: Projection, events: RecordedEvent[]) {
  const views = new Map<string, Map<string, StoredDocument<ViewDocument | null>>>();
  const stored = (collection: string) => views.get(collection) ?? views.set(collection, new Map()).get(collection)!;

  const project = (batch: RecordedEvent[]) => {
    const loaded = new Map<string, Map<string, StoredDocument>>();
    for (const [collection, ids] of documentsTouched(projection, batch)) {
      const documents = new Map<string, StoredDocument>();
      for (const id of ids) {
        const found = stored(collection).get(id);
        if (found?.doc) documents.set(id, structuredClone(found) as StoredDocument);
      }
      loaded.set(collection, documents);
    }
    const outcome = applyBatch(projection, batch, loaded, { maxAttempts: 1 });
    if (outcome.deadLetters.length) {
      throw new Error(`${projection.name} dead-lettered: ${outcome.deadLetters.map((d) => d.error).join('; ')}`);
    }
    for (const change of outcome.changes) {
      const previous = stored(change.collection).get(change.id);
      if (previous && previous.applied >= change.applied) continue;
      // A deletion stays as a tombstone (doc null) with its applied key, as in the stores.
      stored(change.collection).set(change.id, { id: change.id, doc: structuredClone(change.doc), applied: change.applied });
    }
  };

  const spec = {
    /** A later batch, loaded with the documents stored so far (a restart, a redelivery). */
    andLater(batch: RecordedEvent[]) {
      project(batch);
      return spec;
    },
    thenDocument(collection: string, id: string, expected: object) {
      expect(stored(collection).get(id)?.doc).toEqual(expected);
      return spec;
    },
    thenNoDocument(collection: string, id: string) {
      expect(stored(collection).get(id)?.doc ?? undefined).toBeUndefined();
      return spec;
    },
    /** Exactly these documents in the collection, by id. */
    thenDocuments(collection: string, expected: Record<string, object>) {
      const present = [...stored(collection)].filter(([, { doc }]) => doc).map(([id, { doc }]) => [id, doc]);
      expect(Object.fromEntries(present)).toEqual(expected);
      return spec;
    },
  };
  project(events);
  return spec;
}
