import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/logger';
import { freshDatabase, TestDatabase } from '../../test/support/env';
import { SoleLease } from '../view-store/sole-lease';
import { PostgresViewStore } from '../view-store/postgres-view-store';
import { LagAlert, LagWatchdog } from './lag-watchdog';
import type { ProjectionLag } from './projection-lag';

/** Two projector replicas watch the same projection: one alert and one recovery reach the webhook, not two. */
describe('LagWatchdog with replicas', () => {
  let db: TestDatabase;
  let store: PostgresViewStore;
  let webhook: Server;
  let url: string;
  const posted: (LagAlert & { replica: string })[] = [];
  let lag: ProjectionLag = { events: 0, seconds: 0, acknowledged: 0 };

  beforeAll(async () => {
    db = await freshDatabase('read-store', 'cvwatch');
    store = new PostgresViewStore(db.url);
    await store.init();
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        // Each replica posts to its own path, so the receiver tells them apart.
        posted.push({ ...(JSON.parse(body) as LagAlert), replica: req.url!.slice(1) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => webhook.close(resolve));
    await store.close();
    await db.drop();
  });

  const replica = (name: string) => {
    const lease = new SoleLease(store, 'test-lag-watchdog', name, 60_000);
    const watchdog = new LagWatchdog({
      projections: ['order-summary'],
      measure: () => Promise.resolve(lag),
      thresholdSeconds: 10,
      forMs: 0,
      stuckAfterMs: 60_000,
      webhookUrl: `${url}/${name}`,
      logger: createLogger('test', 'silent'),
      announces: () => lease.held(),
    });
    return { name, lease, watchdog };
  };
  /** Webhook calls are not awaited by the watchdog: waits until `count` arrived, and a little longer for any extra one. */
  const received = async (count: number) => {
    for (let i = 0; i < 100 && posted.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    return posted.map(({ status, replica: from }) => [status, from]);
  };

  it('the lease holder alone announces; on its stop the other takes over and announces the recovery', async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    await a.watchdog.sample(); // a takes the lease first
    await b.watchdog.sample();
    lag = { events: 500, seconds: 30, acknowledged: 1 };
    await a.watchdog.sample();
    await b.watchdog.sample();
    await a.watchdog.sample();
    await b.watchdog.sample();
    expect(await received(1)).toEqual([['firing', 'replica-a']]);

    // a stops and lets its lease go; b, which saw the same lag, announces the recovery without repeating the alert.
    await a.lease.release();
    lag = { events: 0, seconds: 0, acknowledged: 501 };
    await b.watchdog.sample();
    expect(await received(2)).toEqual([
      ['firing', 'replica-a'],
      ['resolved', 'replica-b'],
    ]);
    await b.lease.release();
  });
});
