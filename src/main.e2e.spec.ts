import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectNats, eventStreamName } from './nats';
import { connectClient, dropDatabase } from './postgres';
import { databaseUrl, isolatedSystemEnv, NATS_URL, uniqueName } from '../test/support/env';
import { ANONYMOUS, TEST_DEV_KEY } from '../test/support/auth';
import { eventually, http } from '../test/support/system';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

/** Starts the system the way `npm start` does (the built entry point, every process, demo data). */
describe('npm start', () => {
  const name = uniqueName('cvt');
  let child: ChildProcess;
  let output = '';
  let commandUrl: string;
  let queryUrl: string;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    Object.assign(env, {
      ...(await isolatedSystemEnv({ writeUrl: databaseUrl(`${name}_w`), readUrl: databaseUrl(`${name}_r`), namespace: name })),
      LOG_LEVEL: 'warn',
      // The run's key, so that http()'s admin token verifies (the banner's tokens are checked below).
      AUTH_DEV_KEY: TEST_DEV_KEY,
    });
    commandUrl = `http://127.0.0.1:${env.COMMAND_API_PORT}`;
    queryUrl = `http://127.0.0.1:${env.QUERY_API_PORT}`;
    const started = performance.now();
    child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await eventually(async () => output.includes('Converge is running'), 30_000, 'the start-up banner');
    console.log(`npm start: system up in ${Math.round(performance.now() - started)} ms`);
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    const nc = await connectNats(NATS_URL, 'test-cleanup');
    await (await nc.jetstreamManager()).streams.delete(eventStreamName(name)).catch(() => undefined);
    await nc.close();
    await dropDatabase(env.DATABASE_URL);
    await dropDatabase(env.READ_STORE_URL);
  });

  it('prints both API URLs and serves the demo catalog', async () => {
    expect(output).toContain(`http://localhost:${env.COMMAND_API_PORT}`);
    expect(output).toContain(`http://localhost:${env.QUERY_API_PORT}`);
    const catalog = await eventually(async () => {
      const { body } = await http('GET', `${queryUrl}/products?limit=100`);
      return body?.data?.length >= 8 ? body : undefined;
    });
    expect(catalog.data.map((p: { sku: string }) => p.sku)).toContain('MUG-001');
    expect((await http('GET', `${queryUrl}/health/ready`)).status).toBe(200);
    expect((await http('GET', `${commandUrl}/health/ready`)).status).toBe(200);
  });

  it('prints a staff and a demo customer token that work as the README uses them', async () => {
    const staff = /export TOKEN=(\S+)/.exec(output)?.[1];
    const customer = /export CUSTOMER_TOKEN=(\S+)/.exec(output)?.[1];
    expect({ staff: !!staff, customer: !!customer }).toEqual({ staff: true, customer: true });
    const created = await http(
      'POST',
      `${commandUrl}/products`,
      { sku: 'E2E-TOKEN', name: 'Token mug', price: { amount: 100, currency: 'EUR' } },
      { authorization: `Bearer ${staff}` },
    );
    expect(created.status).toBe(201);
    const mine = await http('GET', `${queryUrl}/customers/cust-42/orders`, undefined, { authorization: `Bearer ${customer}` });
    expect(mine.status).toBe(200);
    const theirs = await http('GET', `${queryUrl}/customers/cust-7/orders`, undefined, { authorization: `Bearer ${customer}` });
    expect(theirs.status).toBe(404);
    expect((await http('GET', `${queryUrl}/projections`, undefined, { authorization: ANONYMOUS })).status).toBe(401);
  });

  it('shows a product registered through the command API in the query API, and says how long it took', async () => {
    const started = performance.now();
    const created = await http('POST', `${commandUrl}/products`, {
      sku: 'E2E-1',
      name: 'End to end',
      price: { amount: 4200, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    const seen = await eventually(async () => {
      const { status, body } = await http('GET', `${queryUrl}/products/E2E-1`);
      return status === 200 ? body : undefined;
    });
    const elapsed = performance.now() - started;
    console.log(`command → query visibility: ${elapsed.toFixed(1)} ms (one sample, polling every 25 ms)`);
    expect(seen.data).toEqual(expect.objectContaining({ sku: 'E2E-1', name: 'End to end', status: 'active', available: 0 }));
    expect(seen.view.position).toBeGreaterThan(0);
  });

  it("names each process's PostgreSQL connections, so pg_stat_activity tells them apart", async () => {
    // After the registration above every process has used its pools; the relay and projector poll and hold theirs.
    const names = async (url: string) => {
      const client = await connectClient(url);
      try {
        const { rows } = await client.query<{ name: string }>(
          'SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        return rows.map((row) => row.name);
      } finally {
        await client.end();
      }
    };
    expect(await names(env.DATABASE_URL)).toEqual(expect.arrayContaining(['converge command-api', 'converge relay']));
    expect(await names(env.READ_STORE_URL)).toEqual(expect.arrayContaining(['converge projector', 'converge query-api']));
  });

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
