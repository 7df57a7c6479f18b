import { randomUUID } from 'node:crypto';
import { EventStore } from '../../write-model/event-store/event-store';
import { CheckpointNotice, checkpointSubject, connectNats } from '../../src/nats';
import { orderKey } from '../../src/contracts';
import { createLogger } from '../../src/logger';
import { eventually, startTestSystem, TestSystem } from '../../test/support/system';
import type { Projection } from './projection';
import { Projector } from './projector';

/** A projection of test events whose handler throws on a "poison" event. */
const counters: Projection = {
  name: 'poison-test',
  views: [{ collection: 'counters', fields: { total: 'number' } }],
  handlers: {
    Counted: [
      {
        collection: 'counters',
        documentId: (event) => event.streamId,
        apply: (doc: { total: number } | undefined, event) => {
          if ((event.data as { poison?: boolean }).poison) throw new Error('cannot count poison');
          return { total: (doc?.total ?? 0) + (event.data as { by: number }).by };
        },
      },
    ],
  },
};

describe('Projector', () => {
  let system: TestSystem;
  let events: EventStore;
  let projector: Projector;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  const append = (streamId: string, data: Record<string, unknown>[], expectedVersion: number) =>
    events.appendToStream(
      streamId,
      'counter',
      data.map((d) => ({ type: 'Counted', data: d })),
      {
        expectedVersion,
        metadata: { correlationId: randomUUID() },
      },
    );

  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['relay'] });
    events = new EventStore(system.writePool);
    nc = await connectNats(system.config.natsUrl, 'test-projector');
    projector = new Projector({
      projection: counters,
      store: system.store,
      nc,
      namespace: system.config.namespace,
      logger: createLogger('test', 'silent'),
      batchSize: 10,
      maxAttempts: 3,
    });
    await projector.start();
  });
  afterAll(async () => {
    await projector.stop();
    await nc.close();
    await system.dispose();
  });

  it('dead-letters an event whose handler keeps throwing, with its error, and projects the events after it', async () => {
    await append('c-1', [{ by: 1 }, { by: 2 }], 0);
    const poisoned = await append('c-1', [{ by: 100, poison: true }], 2);
    await append('c-1', [{ by: 4 }], 3);
    await append('c-2', [{ by: 7 }], 0);

    const c2 = await eventually(() => system.store.get('counters', 'c-2'), 10_000, 'later events to be projected');
    expect(c2.doc).toEqual({ total: 7 });
    expect((await system.store.get('counters', 'c-1'))?.doc).toEqual({ total: 7 });

    const letters = await system.store.deadLetters('poison-test');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toEqual(
      expect.objectContaining({
        eventId: poisoned.events[0].eventId,
        projection: 'poison-test',
        attempts: 3,
        error: expect.stringContaining('cannot count poison'),
      }),
    );
    expect(letters[0].event).toEqual(expect.objectContaining({ type: 'Counted', data: { by: 100, poison: true } }));
  });

  it('applies each event once across a restart, resuming after its checkpoint', async () => {
    await projector.stop();
    await append('c-3', [{ by: 5 }, { by: 6 }], 0);
    await projector.start();
    await append('c-3', [{ by: 10 }], 2);
    await eventually(async () => (await system.store.get('counters', 'c-3'))?.doc.total === 21, 10_000, 'c-3 to reach 21');
    // Nothing before the restart is counted again.
    expect((await system.store.get('counters', 'c-1'))?.doc).toEqual({ total: 7 });
    expect((await system.store.get('counters', 'c-2'))?.doc).toEqual({ total: 7 });
  });

  it('announces batches that change nothing at once and writes their checkpoint once, later; a change commits at once', async () => {
    const delay = 4_000;
    const commits: string[] = [];
    const projectorWith = (quietCheckpointDelayMs: number) =>
      new Projector({
        projection: { ...counters, name: 'quiet-test' },
        store: system.store,
        nc,
        namespace: system.config.namespace,
        logger: createLogger('test', 'silent'),
        batchSize: 10,
        quietCheckpointDelayMs,
        onBatch: (batch) => commits.push(batch.checkpoint),
      });
    let quiet = projectorWith(delay);
    const notices: string[] = [];
    const subscription = nc.subscribe(checkpointSubject(system.config.namespace), {
      callback: (error, message) => {
        const notice = JSON.parse(message.string()) as CheckpointNotice;
        if (!error && notice.projection === 'quiet-test') notices.push(notice.orderKey);
      },
    });
    try {
      await quiet.start();
      // Events of a type the projection has no handler for, in several batches.
      let last!: { txId: string; lastPosition: number };
      for (let i = 0; i < 30; i++) {
        last = await events.appendToStream(`other-${i}`, 'other', [{ type: 'Ignored', data: { i } }], {
          expectedVersion: 0,
          metadata: { correlationId: randomUUID() },
        });
      }
      const ignoredKey = orderKey(last.txId, last.lastPosition);
      const announcedAt = await eventually(async () => notices.includes(ignoredKey) && Date.now(), 10_000, 'the batches to be announced');
      expect(notices.length).toBeGreaterThan(1);
      // Readers know the view covers those events; the stored checkpoint follows once, after the delay.
      const stored = await system.store.checkpoint('quiet-test');
      if (Date.now() - announcedAt < delay / 2) expect(stored?.orderKey ?? '').not.toBe(ignoredKey);
      await eventually(
        async () => (await system.store.checkpoint('quiet-test'))?.orderKey === ignoredKey,
        10_000,
        'the deferred checkpoint',
      );
      expect(commits).toEqual([ignoredKey]);

      // A batch that changes a document commits at once, with its own checkpoint. A quiet delay far
      // longer than the wait tells "at once" from "after the delay" however slow the machine is.
      await quiet.stop();
      quiet = projectorWith(120_000);
      await quiet.start();
      await events.appendToStream('other-0', 'other', [{ type: 'Ignored', data: {} }], {
        expectedVersion: 1,
        metadata: { correlationId: randomUUID() },
      });
      const counted = await append('c-quiet', [{ by: 3 }], 0);
      const countedKey = orderKey(counted.txId, counted.lastPosition);
      await eventually(async () => commits.includes(countedKey), 30_000, 'the change to commit before the quiet delay');
      expect((await system.store.checkpoint('quiet-test'))?.orderKey).toBe(countedKey);
      expect((await system.store.get('counters', 'c-quiet'))?.doc).toEqual({ total: 3 });
    } finally {
      subscription.unsubscribe();
      await quiet.stop();
    }
  }, 90_000);
});
