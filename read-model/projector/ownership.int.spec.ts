import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/logger';
import { freshDatabase, TestDatabase } from '../../test/support/env';
import { PostgresViewStore } from '../view-store/postgres-view-store';
import { OwnedWork, ProjectionOwnership, projectionLeaseName } from './ownership';

const TTL_MS = 400;

describe('ProjectionOwnership', () => {
  let db: TestDatabase;
  let store: PostgresViewStore;
  const running: ProjectionOwnership[] = [];

  beforeAll(async () => {
    db = await freshDatabase('read-store', 'cvown');
    store = new PostgresViewStore(db.url);
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((ownership) => ownership.stop()));
  });

  const ownership = (owner: string, projections: string[], start: (projection: string) => Promise<OwnedWork>) => {
    const made = new ProjectionOwnership({
      leases: store,
      projections,
      replicaId: owner,
      owner,
      ttlMs: TTL_MS,
      logger: createLogger('test', 'silent'),
      start: (projection) => start(projection),
    });
    running.push(made);
    return made;
  };
  const lease = async (projection: string) => (await store.leases()).leases.find((l) => l.name === projectionLeaseName(projection));
  const idle: OwnedWork = { stop: async () => undefined };

  it('keeps renewing the leases it holds while another projection\'s start hangs', async () => {
    // The start of "slow" waits on something that never comes (a lock a paused peer holds).
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const replica = ownership('own-a', ['fast', 'slow'], async (projection) => {
      if (projection === 'slow') await hung;
      return idle;
    });
    const starting = replica.start();
    await sleep(TTL_MS * 4);
    // Several lease lifetimes later the running projection's lease is still its own, unexpired.
    const { now } = await store.leases();
    const fast = await lease('fast');
    expect(fast).toMatchObject({ owner: 'own-a', token: 1 });
    expect(fast!.expiresAt.getTime()).toBeGreaterThan(now.getTime());
    expect((await lease('slow'))?.expiresAt.getTime()).toBeGreaterThan(now.getTime());
    release();
    await starting;
    expect(replica.owned).toEqual(['fast', 'slow']);
  });

  it('lets the lease of a projection that failed to start go, and claims it again on a later round', async () => {
    let attempts = 0;
    const replica = ownership('own-b', ['flaky'], async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('JetStream away');
      return idle;
    });
    await replica.start();
    expect(replica.owned).toEqual([]);
    for (let i = 0; i < 50 && replica.owned.length === 0; i++) await sleep(50);
    expect(replica.owned).toEqual(['flaky']);
    expect(attempts).toBe(2);
    expect((await lease('flaky'))?.token).toBe(2);
  });
});
