import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runConverge } from '../test/support/rebuild';
import { expectAllRunning, spawnProcess, SpawnedProcess } from '../test/support/processes';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../test/support/system';
import { allProjections } from '../read-model/projections';

/** What the processes under test call themselves to PostgreSQL (pg reads PGAPPNAME): only their sessions are cut. */
const APPLICATION = 'converge-under-test';

/**
 * PostgreSQL ends sessions in the middle of work (an administrator's pg_terminate_backend, a
 * failover): appends, read-store transactions and saga steps lose their connection between two
 * statements. No process exits, a command answers 503 (and succeeds when retried with its
 * Idempotency-Key) or succeeds, and nothing is half-written.
 */
describe('backends terminated under checked-out clients', () => {
  let system: TestSystem;
  const processes: SpawnedProcess[] = [];

  beforeAll(async () => {
    system = await startTestSystem({ pieces: [], env: { PAYMENT_DEADLINE_MS: '60000', PAYMENT_GATEWAY_TIMEOUT_MS: '1000', CACHE: 'off' } });
    for (const piece of ['command-api', 'relay', 'projector', 'process-manager', 'query-api']) {
      processes.push(spawnProcess(piece, { ...system.env, PGAPPNAME: APPLICATION, LOG_LEVEL: 'warn' }));
    }
    for (const url of [system.commandUrl, system.queryUrl]) {
      await eventually(async () => (await http('GET', `${url}/health/ready`)).status === 200, 60_000, `${url} ready`);
    }
  }, 90_000);
  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await system?.dispose();
    expect(codes).toEqual(processes.map(() => 0));
  }, 60_000);

  it('no exit, 503 or success (never 500), nothing half-written, views equal to the log', async () => {
    const statuses = new Map<number, number>();
    /** A command retried with the same Idempotency-Key while it answers 503, as a client following Retry-After does. */
    const command = async (path: string, body: unknown) => {
      const key = randomUUID();
      for (let attempt = 1; attempt <= 80; attempt++) {
        const answer = await http('POST', `${system.commandUrl}${path}`, body, { 'Idempotency-Key': key });
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status !== 503) return answer;
        await sleep(250);
      }
      throw new Error(`${path} still 503 after 80 attempts`);
    };

    // Cut every session of the processes that is inside a statement or a transaction, over and over.
    const cut = { active: 0, 'idle in transaction': 0 } as Record<string, number>;
    let cutting = true;
    const databases = [new URL(system.env.DATABASE_URL).pathname.slice(1), new URL(system.env.READ_STORE_URL).pathname.slice(1)];
    const terminator = (async () => {
      while (cutting) {
        const { rows } = await system.writePool.query<{ state: string }>(
          `SELECT state, pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = $1 AND datname = ANY($2) AND state IN ('active', 'idle in transaction') AND pid <> pg_backend_pid()`,
          [APPLICATION, databases],
        );
        for (const { state } of rows) cut[state] += 1;
        await sleep(100);
      }
    })();

    const orders: string[] = [];
    const shopper = async (worker: number) => {
      for (let round = 0; round < 8; round++) {
        const sku = `CUT-${worker}-${round}`;
        expect((await command('/products', { sku, name: sku, price: { amount: 300, currency: 'EUR' } })).status).toBe(201);
        expect((await command(`/inventory/${sku}/receipts`, { quantity: 4 })).status).toBe(200);
        const placed = await command('/orders', { customerId: `c-${worker}`, lines: [{ sku, quantity: 2 }], paymentToken: 'tok_approve' });
        expect(placed.status).toBe(201);
        orders.push(placed.body.id);
      }
    };
    try {
      await Promise.all([0, 1, 2, 3].map(shopper));
      // Keep cutting while the saga and the projector work through the backlog.
      await sleep(3_000);
    } finally {
      cutting = false;
      await terminator;
    }
    expectAllRunning(processes);
    expect(cut.active + cut['idle in transaction']).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((status) => status >= 500 && status !== 503)).toEqual([]);

    for (const id of orders) {
      await eventually(async () => (await http('GET', `${system.queryUrl}/orders/${id}`)).body?.data?.status === 'confirmed', 60_000, `order ${id} confirmed`);
    }
    // Nothing half-written: every stream's version is exactly the number of its events, numbered 1..n.
    const { rows: torn } = await system.writePool.query(
      `SELECT s.stream_id, s.version, e.n, e.top FROM streams s
       LEFT JOIN (SELECT stream_id, count(*)::int AS n, max(stream_version) AS top FROM events GROUP BY stream_id) e USING (stream_id)
       WHERE e.n IS DISTINCT FROM s.version OR e.top IS DISTINCT FROM s.version`,
    );
    expect(torn).toEqual([]);
    const { rows: products } = await system.writePool.query(`SELECT count(*)::int AS n FROM events WHERE event_type = 'ProductRegistered' AND stream_id LIKE '%CUT-%'`);
    expect(products[0].n).toBe(32);
    await projectionsCaughtUp(system, allProjections(system.config).map((p) => p.name), 60_000);
    const verified = await runConverge(['verify', '--all'], system.env);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expectAllRunning(processes);
    console.log(`sessions cut: ${JSON.stringify(cut)}; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 240_000);
});
