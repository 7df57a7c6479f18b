import { dropDatabase } from './postgres';
import { databaseUrl, uniqueName } from '../test/support/env';
import { freePort } from '../test/support/nats-server';
import { expectAllRunning, spawnProcess, SpawnedProcess } from '../test/support/processes';
import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

/** Ten processes started at the same instant on databases that do not exist yet: they queue for the migration lock, none fails. */
describe('ten processes starting at once against an empty database', () => {
  let system: TestSystem;
  const processes: SpawnedProcess[] = [];
  const writeUrl = databaseUrl(uniqueName('cvt_empty_w'));
  const readUrl = databaseUrl(uniqueName('cvt_empty_r'));

  beforeAll(async () => {
    system = await startTestSystem({ pieces: [], env: { CACHE: 'off' } });
  });
  afterAll(async () => {
    const codes = await Promise.all(processes.map((p) => p.stop()));
    await system?.dispose();
    await dropDatabase(writeUrl);
    await dropDatabase(readUrl);
    expect(codes).toEqual(processes.map(() => 0));
  }, 60_000);

  it('all become ready and work together', async () => {
    const env = { ...system.env, DATABASE_URL: writeUrl, READ_STORE_URL: readUrl, LOG_LEVEL: 'warn' };
    const apis: { which: string; port: number }[] = [];
    for (let i = 0; i < 4; i++) apis.push({ which: 'command-api', port: await freePort() });
    for (let i = 0; i < 3; i++) apis.push({ which: 'query-api', port: await freePort() });
    for (const { which, port } of apis) {
      const setting = which === 'command-api' ? 'COMMAND_API_PORT' : 'QUERY_API_PORT';
      processes.push(spawnProcess(which, { ...env, [setting]: String(port) }, `${which}:${port}`));
    }
    for (const which of ['relay', 'projector', 'process-manager']) processes.push(spawnProcess(which, env));

    for (const { port } of apis) {
      await eventually(async () => (await http('GET', `http://127.0.0.1:${port}/health/ready`)).status === 200, 90_000, `port ${port} ready`);
    }
    expectAllRunning(processes);
    expect(processes.map((p) => p.output()).join('\n')).not.toMatch(/Another migration|failed to start/);

    // The relay, the projector and the process manager work too: an order placed on one API is confirmed on another.
    const [first, , , last] = apis;
    const command = `http://127.0.0.1:${first.port}`;
    const query = `http://127.0.0.1:${apis[apis.length - 1].port}`;
    expect((await http('POST', `${command}/products`, { sku: 'TEN', name: 'Ten', price: { amount: 10, currency: 'EUR' } })).status).toBe(201);
    expect((await http('POST', `http://127.0.0.1:${last.port}/inventory/TEN/receipts`, { quantity: 2 })).status).toBe(200);
    const placed = await http('POST', `${command}/orders`, { customerId: 'c-ten', lines: [{ sku: 'TEN', quantity: 1 }], paymentToken: 'tok_approve' });
    expect(placed.status).toBe(201);
    await eventually(async () => (await http('GET', `${query}/orders/${placed.body.id}`)).body?.data?.status === 'confirmed', 60_000, 'the order confirmed');
    expectAllRunning(processes);
  }, 180_000);
});
