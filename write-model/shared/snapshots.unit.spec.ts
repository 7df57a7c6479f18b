import fc from 'fast-check';
import { STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { commandCases, runCommands } from '../../test/support/command-arbitraries';
import { InMemoryEventStore } from '../../test/support/in-memory-event-store';
import { stockDecider } from '../inventory/stock.decider';
import { AggregateStore } from './aggregate-store';

jest.mock('node:timers/promises', () => ({ setTimeout: jest.fn(async () => undefined) }));

/** The commands through one aggregate store that saves a snapshot every `snapshotEvery` events (0: never). */
async function run(aggregate: Parameters<typeof runCommands>[0], commands: never[], snapshotEvery: number) {
  const ran = await runCommands(
    aggregate,
    commands.map((command) => ({ command, writer: 0 })),
    (events) => [new AggregateStore(events, { snapshotEvery })],
  );
  return { ...ran, snapshots: ran.events.savedSnapshots.length };
}

describe('snapshots change no decision', () => {
  it.each(commandCases)('the $name decider answers every command sequence alike with and without snapshots', async ({ aggregate, commands, start }) => {
    let snapshotted = 0;
    const sequences = fc
      .tuple(fc.boolean(), fc.array(commands as fc.Arbitrary<never>, { minLength: 1, maxLength: 60 }))
      .map(([existing, rest]) => (existing ? [...(start as unknown as never[]), ...rest] : rest));
    await fc.assert(
      fc.asyncProperty(sequences, fc.integer({ min: 1, max: 4 }), async (sequence, every) => {
        const folded = await run(aggregate, sequence, 0);
        const snapshots = await run(aggregate, sequence, every);
        // Answers include the no-op answers' tokens, which name the last event: it survives in the snapshot.
        expect(snapshots.answers).toEqual(folded.answers);
        expect(snapshots.stream).toEqual(folded.stream);
        expect(snapshots.loaded).toEqual(folded.loaded);
        expect(folded.snapshots).toBe(0);
        snapshotted += snapshots.snapshots;
      }),
      { numRuns: 150 },
    );
    // The property is only worth something if loads really started from snapshots.
    expect(snapshotted).toBeGreaterThan(50);
  });
});

describe('snapshot versions', () => {
  const mug = { id: 'MUG', streamId: stockStreamId('MUG'), streamType: STOCK_STREAM, decider: stockDecider };
  const received = (quantity: number, onHand: number) => ({ type: 'StockReceived', data: { sku: 'MUG', onHand, reserved: 0, quantity } });

  it('ignores a snapshot of another snapshot version, folds the events and replaces it', async () => {
    const events = new InMemoryEventStore();
    events.commit(mug.streamId, STOCK_STREAM, [received(2, 2), received(3, 5)]);
    const last = { txId: '1', position: 2, recordedAt: new Date() };
    const stale = { onHand: 999, reserved: 0, sku: 'MUG', reservations: {} };
    events.plantSnapshot({ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version - 1, streamVersion: 2, state: stale, last });
    const aggregates = new AggregateStore(events, { snapshotEvery: 2 });

    const loaded = await aggregates.load(stockDecider, mug.streamId);
    expect(loaded.state).toEqual({ sku: 'MUG', onHand: 5, reserved: 0, reservations: {} });
    expect(events.snapshot(mug.streamId)).toMatchObject({ snapshotVersion: stockDecider.snapshot!.version, streamVersion: 2, state: { onHand: 5 } });
  });

  it('starts from a snapshot of its own version and folds only the events after it', async () => {
    const events = new InMemoryEventStore();
    events.commit(mug.streamId, STOCK_STREAM, [received(2, 2), received(3, 5), received(1, 6)]);
    const planted = { onHand: 5, reserved: 0, sku: 'MUG', reservations: { planted: { quantity: 1 } } };
    const last = { txId: '2', position: 2, recordedAt: new Date() };
    events.plantSnapshot({ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version, streamVersion: 2, state: planted, last });
    const loaded = await new AggregateStore(events).load(stockDecider, mug.streamId);
    // The planted reservation shows the snapshot was used; the third event's levels are folded over it.
    expect(loaded).toMatchObject({ version: 3, state: { onHand: 6, reservations: { planted: { quantity: 1 } } }, last: { position: 3 } });
    const tails = await events.readTails([{ streamId: mug.streamId, snapshotVersion: stockDecider.snapshot!.version }]);
    expect(tails.get(mug.streamId)!.events.map((e) => e.streamVersion)).toEqual([3]);
  });
});
