import { freePort } from '../test/support/nats-server';
import { Replica, spawnReplica } from '../test/support/replicas';
import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

jest.setTimeout(180_000);

const FINAL = ['confirmed', 'rejected', 'cancelled'];

/** Two command APIs and two query APIs (one in this process, one a child from dist/) on one system. */
describe('API replicas', () => {
  let system: TestSystem;
  const replicas: Replica[] = [];
  let commandUrls: string[];
  let queryUrls: string[];

  beforeAll(async () => {
    // A slow projector, so that a read with a token really has to wait for it.
    system = await startTestSystem({ env: { PROJECTION_BATCH_DELAY_MS: '60' } });
    const commandPort = await freePort();
    const queryPort = await freePort();
    replicas.push(spawnReplica('command-api', 'command-api-2', { ...system.env, COMMAND_API_PORT: String(commandPort), LOG_LEVEL: 'warn' }));
    replicas.push(spawnReplica('query-api', 'query-api-2', { ...system.env, QUERY_API_PORT: String(queryPort), LOG_LEVEL: 'warn' }));
    commandUrls = [system.commandUrl, `http://127.0.0.1:${commandPort}`];
    queryUrls = [system.queryUrl, `http://127.0.0.1:${queryPort}`];
    for (const url of [...commandUrls, ...queryUrls]) {
      await eventually(async () => (await http('GET', `${url}/health/ready`).catch(() => undefined))?.status === 200, 60_000, `${url} ready`);
    }
    expect((await http('POST', `${commandUrls[0]}/products`, { sku: 'HOT-2', name: 'Hot', price: { amount: 250, currency: 'EUR' } })).status).toBe(201);
    expect((await http('POST', `${commandUrls[1]}/inventory/HOT-2/receipts`, { quantity: 50 })).status).toBe(200);
  });
  afterAll(async () => {
    for (const replica of replicas) replica.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await system.dispose();
  });

  it('sells exactly 50 units to 200 concurrent orders split over two command APIs, with no 5xx', async () => {
    const placed = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http('POST', `${commandUrls[i % 2]}/orders`, { customerId: 'cust-hot-2', lines: [{ sku: 'HOT-2', quantity: 1 }], paymentToken: 'tok_approve' }),
      ),
    );
    expect(placed.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(placed.map((answer) => answer.status)).toEqual(Array(200).fill(201));
    const ids = placed.map((answer) => answer.body.id as string);
    const statuses = await eventually(async () => {
      const found = new Map<string, string>();
      let cursor = '';
      do {
        const { body } = await http('GET', `${queryUrls[1]}/customers/cust-hot-2/orders?limit=100${cursor}`);
        for (const order of body.data) found.set(order.id, order.status);
        cursor = body.page.nextCursor ? `&cursor=${encodeURIComponent(body.page.nextCursor)}` : '';
      } while (cursor);
      return ids.every((id) => FINAL.includes(found.get(id) ?? '')) ? found : undefined;
    }, 120_000, 'all 200 orders final');
    const outcomes = ids.map((id) => statuses.get(id));
    expect(outcomes.filter((s) => s === 'confirmed')).toHaveLength(50);
    expect(outcomes.filter((s) => s === 'rejected')).toHaveLength(150);
    for (const url of queryUrls) {
      const level = await eventually(async () => {
        const { body } = await http('GET', `${url}/inventory/HOT-2`);
        return body?.data?.reserved === 50 ? body.data : undefined;
      }, 30_000, `${url} to show 50 reserved`);
      expect(level).toEqual(expect.objectContaining({ onHand: 50, reserved: 50, available: 0 }));
    }
  });

  it('waits for a consistency token on every query API replica, whichever command API issued it', async () => {
    for (const [i, commandUrl] of commandUrls.entries()) {
      const sku = `TOKEN-${i}`;
      const created = await http('POST', `${commandUrl}/products`, { sku, name: `Token ${i}`, price: { amount: 100, currency: 'EUR' } });
      expect(created.status).toBe(201);
      const token = created.headers.get('consistency-token')!;
      expect(token).toBeTruthy();
      for (const queryUrl of queryUrls) {
        const read = await http('GET', `${queryUrl}/products/${sku}`, undefined, { 'Consistency-Token': token });
        expect({ queryUrl, status: read.status, stale: read.body?.view?.stale }).toEqual({ queryUrl, status: 200, stale: false });
        expect(read.body.data).toEqual(expect.objectContaining({ sku, name: `Token ${i}` }));
      }
    }
  });
});
