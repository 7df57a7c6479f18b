import { setTimeout as sleep } from 'node:timers/promises';
import { startNatsServer, PrivateNatsServer } from '../test/support/nats-server';
import { PrivatePostgresServer, startPostgresServer } from '../test/support/postgres-server';
import { PrivateRedisServer, startRedisServer } from '../test/support/redis-server';
import { expectAllRunning, spawnProcess, SpawnedProcess } from '../test/support/processes';
import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

const PIECES = ['command-api', 'relay', 'projector', 'process-manager', 'query-api'];

/**
 * Every process rides out PostgreSQL and NATS being killed (-9) and restarted under it, at
 * start-up and later: none exits, the APIs say not-ready (and 503, never 500) while the write
 * store is away, and everything resumes. "separately": the five processes each on its own;
 * "together": the all-in-one process `npm start` runs, on databases and a namespace of its own.
 */
describe('processes ride out PostgreSQL, NATS and Redis being killed and restarted', () => {
  let pg: PrivatePostgresServer;
  let nats: PrivateNatsServer;
  let redis: PrivateRedisServer;
  let apart: TestSystem;
  let together: TestSystem;
  const processes: SpawnedProcess[] = [];
  const systems = () => [apart, together];
  let counter = 0;

  beforeAll(async () => {
    pg = await startPostgresServer();
    nats = await startNatsServer();
    redis = await startRedisServer();
    // Short payment steps, so that orders settle within the test's waits.
    const env = { PAYMENT_DEADLINE_MS: '20000', PAYMENT_GATEWAY_TIMEOUT_MS: '1000', REDIS_URL: redis.url };
    apart = await startTestSystem({ postgresUrl: pg.url, natsUrl: nats.url, pieces: [], env });
    together = await startTestSystem({ postgresUrl: pg.url, natsUrl: nats.url, pieces: [], env });
  }, 60_000);
  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await pg.start().catch(() => undefined);
    await nats.restart().catch(() => undefined);
    for (const system of [apart, together]) await system?.dispose().catch(() => undefined);
    await nats?.dispose();
    await redis?.dispose();
    await pg?.dispose();
    // Every process still stops cleanly after all of it.
    expect(codes).toEqual(processes.map(() => 0));
  }, 60_000);

  const ready = (url: string) => eventually(async () => (await http('GET', `${url}/health/ready`)).status === 200, 60_000, `${url} to be ready`);
  const allReady = () => Promise.all(systems().flatMap((s) => [ready(s.commandUrl), ready(s.queryUrl)]));

  /** A product with stock and a paid order on it, each seen through the query API (relay, projector and saga at work). */
  const flowWorks = async (system: TestSystem) => {
    const sku = `RIDE-${++counter}`;
    const created = await http('POST', `${system.commandUrl}/products`, { sku, name: sku, price: { amount: 100, currency: 'EUR' } });
    expect(created.status).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/${sku}/receipts`, { quantity: 5 })).status).toBe(200);
    const placed = await http('POST', `${system.commandUrl}/orders`, { customerId: 'c-ride', lines: [{ sku, quantity: 1 }], paymentToken: 'tok_approve' });
    expect(placed.status).toBe(201);
    await eventually(
      async () => (await http('GET', `${system.queryUrl}/orders/${placed.body.id}`)).body?.data?.status === 'confirmed',
      60_000,
      `order ${placed.body.id} to be confirmed`,
    );
    await eventually(async () => (await http('GET', `${system.queryUrl}/inventory/${sku}`)).body?.data?.reserved === 1, 30_000, `${sku} reserved`);
  };

  it('starts every process while PostgreSQL and NATS are down; each waits, then becomes ready', async () => {
    await pg.kill();
    await nats.kill();
    for (const piece of PIECES) processes.push(spawnProcess(piece, { ...apart.env, LOG_LEVEL: 'warn' }, `${piece} (apart)`));
    processes.push(spawnProcess('all', { ...together.env, LOG_LEVEL: 'warn' }, 'all (together)'));
    // Long enough for several retries and a "still trying" warning each.
    await eventually(async () => processes.every((p) => p.output().includes('still trying')), 30_000, 'every process to say it waits');
    expectAllRunning(processes);
    expect(processes.map((p) => p.output()).join('\n')).not.toMatch(/failed to start|Unhandled/);
    // Meanwhile the background processes answer their probes on their ops ports: live, not ready.
    for (const url of systems().flatMap((system) => Object.values(system.opsUrls))) {
      const live = await http('GET', `${url}/health/live`);
      expect({ url, status: live.status, body: live.body as unknown }).toEqual({ url, status: 200, body: { status: 'live' } });
      const ready = await http('GET', `${url}/health/ready`);
      expect({ url, status: ready.status, contentType: ready.contentType }).toEqual({
        url,
        status: 503,
        contentType: 'application/problem+json',
      });
      expect(ready.body.error).toEqual({ starting: { status: 'down', message: 'starting: waiting for its dependencies' } });
    }

    await pg.start();
    // The APIs need no NATS to serve (the all-in-one process starts its pieces in turn: its query API comes after the relay's NATS).
    await Promise.all([ready(apart.commandUrl), ready(apart.queryUrl), ready(together.commandUrl)]);
    await nats.restart();
    await allReady();
    for (const system of systems()) await flowWorks(system);
    expectAllRunning(processes);
  }, 180_000);

  it('PostgreSQL killed under running processes: 503 with Retry-After (never 500) and not-ready while away, then everything resumes', async () => {
    await pg.kill();
    const statuses = new Set<number>();
    for (const system of systems()) {
      // The first request may meet a connection that has not noticed yet; soon every answer is a 503.
      const refused = await eventually(async () => {
        const answer = await http('POST', `${system.commandUrl}/products`, { sku: `AWAY-${++counter}`, name: 'x', price: { amount: 1, currency: 'EUR' } });
        statuses.add(answer.status);
        return answer.status === 503 ? answer : undefined;
      }, 30_000, 'a 503 from the command API');
      expect(refused.contentType).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const notReady = await http('GET', `${system.commandUrl}/health/ready`);
      expect(notReady.status).toBe(503);
      for (let i = 0; i < 5; i++) {
        const answer = await http('POST', `${system.commandUrl}/inventory/NOPE/receipts`, { quantity: 1 });
        statuses.add(answer.status);
      }
      await eventually(async () => (await http('GET', `${system.queryUrl}/health/ready`)).status === 503, 30_000, 'the query API not ready');
      // The read store is on the same server: a query answers 503 too, never 500 (the list is not cached).
      const query = await eventually(async () => {
        const answer = await http('GET', `${system.queryUrl}/inventory?lowStock=true&limit=5`);
        statuses.add(answer.status);
        return answer.status === 503 ? answer : undefined;
      }, 30_000, 'a 503 from the query API');
      expect(query.contentType).toContain('application/problem+json');
    }
    expect([...statuses].filter((status) => status >= 500 && status !== 503)).toEqual([]);
    await sleep(3_000); // several failed retries of every background loop
    expectAllRunning(processes);

    await pg.start();
    await allReady();
    for (const system of systems()) await flowWorks(system);
    expectAllRunning(processes);
  }, 180_000);

  it('NATS killed under running processes: commands still succeed, the views converge once it is back', async () => {
    await nats.kill();
    const during: string[] = [];
    for (const system of systems()) {
      const sku = `DARK-${++counter}`;
      expect((await http('POST', `${system.commandUrl}/products`, { sku, name: sku, price: { amount: 1, currency: 'EUR' } })).status).toBe(201);
      during.push(`${system.queryUrl}/products/${sku}`);
    }
    await sleep(3_000);
    expectAllRunning(processes);
    await nats.restart();
    for (const url of during) await eventually(async () => (await http('GET', url)).status === 200, 60_000, `${url} to be projected`);
    await allReady();
    for (const system of systems()) await flowWorks(system);
    expectAllRunning(processes);
  }, 180_000);

  it('Redis killed under the query APIs: still ready and serving, from the store, until it is back', async () => {
    await redis.kill();
    for (const system of systems()) {
      await flowWorks(system);
      const ready = await http('GET', `${system.queryUrl}/health/ready`);
      expect(ready.status).toBe(200);
    }
    expectAllRunning(processes);
    await redis.restart();
    for (const system of systems()) await flowWorks(system);
    expectAllRunning(processes);
  }, 180_000);
});
