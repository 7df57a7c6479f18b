import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../config';
import { migrate } from '../postgres';
import { startCommandApi } from '../processes/command-api';
import { TEST_DEV_KEY } from '../../test/support/auth';
import { freePort } from '../../test/support/nats-server';
import { PrivatePostgresServer, startPostgresServer } from '../../test/support/postgres-server';
import { eventually, http } from '../../test/support/system';

/** The command API on a PostgreSQL of its own, stopped and started again under it. */
describe('command API while PostgreSQL is down', () => {
  let pg: PrivatePostgresServer;
  let api: Awaited<ReturnType<typeof startCommandApi>>;
  let url: string;
  const logs: { level: number; msg: string; err?: unknown }[] = [];
  const product = (sku: string) => ({ sku, name: `Lamp ${sku}`, price: { amount: 1000, currency: 'EUR' } });

  beforeAll(async () => {
    pg = await startPostgresServer();
    const port = await freePort();
    // The run's key, so that http()'s admin token verifies.
    const config = loadConfig({ DATABASE_URL: pg.url.replace(/\/postgres$/, '/converge'), COMMAND_API_PORT: String(port), AUTH_DEV_KEY: TEST_DEV_KEY });
    await migrate(config.databaseUrl, 'write-store');
    const sink = new Writable({
      write(line, _encoding, done) {
        logs.push(JSON.parse(String(line)));
        done();
      },
    });
    api = await startCommandApi(config, pino({ level: 'debug' }, sink));
    url = `http://127.0.0.1:${port}`;
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await pg?.dispose();
  });

  it('answers commands and readiness while PostgreSQL runs', async () => {
    expect((await http('POST', `${url}/products`, product('PG-1'))).status).toBe(201);
    const ready = await http('GET', `${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.contentType).toMatch(/^application\/json/);
    expect(ready.body).toEqual({ status: 'ok', info: { postgres: { status: 'up' } }, error: {}, details: { postgres: { status: 'up' } } });
  });

  it('answers 503 problem+json with Retry-After, not 500, and logs no error', async () => {
    await pg.stop();
    const refused = await http('POST', `${url}/products`, product('PG-2'));
    expect(refused.status).toBe(503);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toEqual(expect.objectContaining({
      type: 'urn:converge:problem:unavailable',
      status: 503,
      detail: expect.stringMatching(/^the write store is unavailable \(.+\); retry later$/),
      instance: '/products',
    }));

    const ready = await http('GET', `${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(ready.body).toEqual(expect.objectContaining({
      type: 'urn:converge:problem:unavailable',
      detail: expect.stringContaining('postgres is down'),
      info: {},
      error: { postgres: { status: 'down', message: expect.any(String) } },
      details: { postgres: { status: 'down', message: expect.any(String) } },
    }));

    // Expected while a store is down: a warning line for the refused command, nothing at error level, no stack.
    expect(logs.filter((line) => line.level >= 50)).toEqual([]);
    expect(logs.filter((line) => line.err !== undefined)).toEqual([]);
    expect(logs.filter((line) => line.msg === 'request refused: unavailable')).toHaveLength(1);
  });

  it('takes commands again once PostgreSQL is back', async () => {
    await pg.start();
    const created = await eventually(async () => {
      const answer = await http('POST', `${url}/products`, product('PG-2'));
      return answer.status === 503 ? undefined : answer;
    }, 15_000, 'the command API to reconnect');
    expect(created.status).toBe(201);
    expect((await http('GET', `${url}/health/ready`)).status).toBe(200);
  });
});
