import { orderKey, RecordedEvent } from '../../src/contracts';
import { eventLog } from '../../test/support/projection-spec';
import type { StoredDocument } from '../view-store/view-store';
import { applyBatch, documentsTouched } from './apply-batch';
import type { Projection, ProjectionHandler } from './projection';

type Tally = { sku: string; received: number };

/** Counts received stock per sku; a sku named BAD makes it throw (a bug in a handler). */
const tally: ProjectionHandler<RecordedEvent<string, { sku: string; quantity: number }>, Tally> = {
  collection: 'tallies',
  documentId: (event) => event.data.sku,
  apply: (doc, event) => {
    if (event.data.sku === 'BAD') throw new Error('boom');
    return { sku: event.data.sku, received: (doc?.received ?? 0) + event.data.quantity };
  },
};
/** A second view of the same events: the last quantity per sku. */
const lastReceipt: ProjectionHandler<RecordedEvent<string, { sku: string; quantity: number }>> = {
  collection: 'receipts',
  documentId: (event) => event.data.sku,
  apply: (_, event) => ({ quantity: event.data.quantity }),
};
/** Discontinuing deletes the tally (null); an adjustment leaves it as it is (undefined). */
const forget: ProjectionHandler<RecordedEvent<string, { sku: string }>> = {
  collection: 'tallies',
  documentId: (event) => event.data.sku,
  apply: () => null,
};
const ignore: ProjectionHandler<RecordedEvent<string, { sku: string }>> = {
  collection: 'tallies',
  documentId: (event) => event.data.sku,
  apply: () => undefined,
};
const projection: Projection = {
  name: 'tallies',
  views: [{ collection: 'tallies', fields: {} }],
  handlers: { StockReceived: [tally], ProductDiscontinued: [forget], StockAdjusted: [ignore] },
};

function receipts() {
  const record = eventLog();
  return (sku: string, quantity: number) =>
    record({ type: 'StockReceived', data: { sku, onHand: quantity, reserved: 0, quantity } });
}
const keyOf = (event: RecordedEvent) => orderKey(event.txId, event.position);
const stored = (collection: string, documents: StoredDocument[]) =>
  new Map([[collection, new Map(documents.map((d) => [d.id, d]))]]);
const once = { maxAttempts: 1 };

describe('applyBatch', () => {
  it('applies events in order, one change per document carrying the last key applied to it', () => {
    const received = receipts();
    const events = [received('MUG', 2), received('TEA', 1), received('MUG', 3)];
    expect(applyBatch(projection, events, new Map(), once)).toEqual({
      changes: [
        { collection: 'tallies', id: 'MUG', doc: { sku: 'MUG', received: 5 }, applied: keyOf(events[2]) },
        { collection: 'tallies', id: 'TEA', doc: { sku: 'TEA', received: 1 }, applied: keyOf(events[1]) },
      ],
      deadLetters: [],
      applied: 3,
      skipped: 0,
    });
  });

  it("changes nothing with an event at or before the document's applied key", () => {
    const received = receipts();
    const [before, at, after] = [received('MUG', 1), received('MUG', 2), received('MUG', 4)];
    const loaded = stored('tallies', [{ id: 'MUG', doc: { sku: 'MUG', received: 3 }, applied: keyOf(at) }]);
    expect(applyBatch(projection, [before, at], loaded, once)).toEqual({ changes: [], deadLetters: [], applied: 0, skipped: 2 });
    expect(applyBatch(projection, [before, at, after], loaded, once)).toMatchObject({
      changes: [{ collection: 'tallies', id: 'MUG', doc: { sku: 'MUG', received: 7 }, applied: keyOf(after) }],
      applied: 1,
      skipped: 2,
    });
  });

  it('applies an event delivered twice in one batch once', () => {
    const received = receipts();
    const event = received('MUG', 2);
    expect(applyBatch(projection, [event, event], new Map(), once)).toMatchObject({
      changes: [{ id: 'MUG', doc: { sku: 'MUG', received: 2 } }],
      applied: 1,
      skipped: 1,
    });
  });

  it('retries a throwing handler maxAttempts times, dead-letters the event and goes on with the batch', () => {
    const received = receipts();
    const events = [received('MUG', 2), received('BAD', 1), received('MUG', 3)];
    const apply = jest.spyOn(tally, 'apply');
    const failedAt = new Date('2026-03-02T12:00:00.000Z');
    try {
      const outcome = applyBatch(projection, events, new Map(), { maxAttempts: 3, now: () => failedAt });
      expect(apply.mock.calls.filter(([, event]) => event === events[1])).toHaveLength(3);
      expect(outcome).toEqual({
        changes: [{ collection: 'tallies', id: 'MUG', doc: { sku: 'MUG', received: 5 }, applied: keyOf(events[2]) }],
        deadLetters: [
          {
            eventId: events[1].eventId,
            projection: 'tallies',
            orderKey: keyOf(events[1]),
            event: events[1],
            error: 'Error: boom',
            attempts: 3,
            failedAt,
          },
        ],
        applied: 2,
        skipped: 0,
      });
    } finally {
      apply.mockRestore();
    }
  });

  it('keeps an event whose handler succeeds on a later attempt', () => {
    const received = receipts();
    let failures = 1;
    const flaky = (thrown: unknown): Projection => ({
      ...projection,
      handlers: {
        StockReceived: [
          {
            ...tally,
            apply: (doc, event) => {
              if (failures-- > 0) throw thrown;
              return tally.apply(doc, event);
            },
          },
        ],
      },
    });
    expect(applyBatch(flaky(new Error('not yet')), [received('MUG', 2)], new Map(), { maxAttempts: 2 })).toMatchObject({
      changes: [{ id: 'MUG', doc: { sku: 'MUG', received: 2 } }],
      deadLetters: [],
      applied: 1,
    });
    failures = 1;
    expect(applyBatch(flaky('not an Error'), [received('TEA', 2)], new Map(), once)).toMatchObject({
      changes: [],
      deadLetters: [{ error: 'not an Error', attempts: 1 }],
    });
  });

  it("keeps none of an event's document changes when one of its handlers fails", () => {
    const received = receipts();
    const both: Projection = { ...projection, handlers: { StockReceived: [lastReceipt, tally] } };
    expect(applyBatch(both, [received('BAD', 1)], new Map(), once)).toMatchObject({
      changes: [],
      deadLetters: [{ error: 'Error: boom' }],
      applied: 0,
      skipped: 0,
    });
  });

  it('deletes a document whose handler returns null and leaves it when it returns undefined', () => {
    const record = eventLog();
    const discontinued = record({ type: 'ProductDiscontinued', data: { sku: 'MUG' } });
    const adjusted = record({ type: 'StockAdjusted', data: { sku: 'TEA', onHand: 0, reserved: 0, quantity: -1, reason: 'x' } });
    const loaded = stored('tallies', [
      { id: 'MUG', doc: { sku: 'MUG', received: 3 }, applied: orderKey(0, 1) },
      { id: 'TEA', doc: { sku: 'TEA', received: 1 }, applied: orderKey(0, 1) },
    ]);
    expect(applyBatch(projection, [discontinued, adjusted], loaded, once)).toEqual({
      changes: [{ collection: 'tallies', id: 'MUG', doc: null, applied: keyOf(discontinued) }],
      deadLetters: [],
      applied: 1,
      skipped: 1,
    });
  });

  it('passes over event types the projection has no handler for', () => {
    const record = eventLog();
    const placed = record({
      type: 'OrderPlaced',
      data: { orderId: 'o1', customerId: 'c1', lines: [], total: { amount: 0, currency: 'EUR' }, paymentToken: 'tok_x' },
    });
    expect(applyBatch(projection, [placed], new Map(), once)).toEqual({ changes: [], deadLetters: [], applied: 0, skipped: 1 });
  });

  it('reads and writes renamed collections (a rebuild into shadow names)', () => {
    const received = receipts();
    const event = received('MUG', 2);
    const loaded = stored('tallies__shadow', [{ id: 'MUG', doc: { sku: 'MUG', received: 5 }, applied: orderKey(0, 0) }]);
    const rename = (collection: string) => `${collection}__shadow`;
    expect(applyBatch(projection, [event], loaded, { ...once, rename }).changes).toEqual([
      { collection: 'tallies__shadow', id: 'MUG', doc: { sku: 'MUG', received: 7 }, applied: keyOf(event) },
    ]);
  });
});

describe('documentsTouched', () => {
  it('groups the ids a batch touches per collection, each once, renamed, skipping unhandled types', () => {
    const received = receipts();
    const record = eventLog();
    const events = [
      received('MUG', 1),
      received('TEA', 1),
      received('MUG', 2),
      record({ type: 'ProductDiscontinued', data: { sku: 'CAP' } }),
      record({ type: 'ProductRegistered', data: { sku: 'PEN', name: 'Pen', description: '', price: { amount: 1, currency: 'EUR' } } }),
    ];
    const both: Projection = { ...projection, handlers: { ...projection.handlers, StockReceived: [tally, lastReceipt] } };
    expect(documentsTouched(both, events)).toEqual(
      new Map([
        ['tallies', new Set(['MUG', 'TEA', 'CAP'])],
        ['receipts', new Set(['MUG', 'TEA'])],
      ]),
    );
    expect([...documentsTouched(projection, events, (c) => `${c}__shadow`).keys()]).toEqual(['tallies__shadow']);
  });
});
