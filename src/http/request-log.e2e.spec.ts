import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeToken } from '../contracts';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

const MAIN = join(__dirname, '../../dist/src/main.js');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface LogLine {
  level: number;
  msg: string;
  correlationId?: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
  [key: string]: unknown;
}

/** One Converge process as docker-compose runs it, its JSON log lines collected. */
function run(process_: string, env: Record<string, string>) {
  const lines: LogLine[] = [];
  let rest = '';
  const child: ChildProcess = spawn(process.execPath, [MAIN, process_], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as LogLine);
  });
  return { child, lines };
}

/** Request logs: one JSON line per request with its correlation id, echoed in X-Correlation-Id and carried on. */
describe('request logs and correlation', () => {
  let system: TestSystem;
  let command: ReturnType<typeof run>;
  let query: ReturnType<typeof run>;
  let saga: ReturnType<typeof run>;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    // LOG_FORMAT=json even on a terminal: the lines are parsed here.
    const env = { ...system.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    command = run('command-api', env);
    query = run('query-api', env);
    saga = run('process-manager', env);
    await eventually(async () => (await http('GET', `${system.commandUrl}/health/ready`)).status === 200, 90_000, 'the command API');
    await eventually(async () => (await http('GET', `${system.queryUrl}/health/ready`)).status === 200, 90_000, 'the query API');
    await eventually(
      async () => (await http('GET', `${system.opsUrls['process-manager']}/health/ready`)).status === 200,
      90_000,
      'the process manager',
    );
  }, 200_000);
  afterAll(async () => {
    for (const { child } of [command, query, saga]) if (child && child.exitCode === null) child.kill('SIGKILL');
    await system?.dispose();
  });

  const requestLines = (lines: LogLine[], id: string) => lines.filter((line) => line.correlationId === id && line.route !== undefined);

  it('a command: the given id is echoed, logged once with method, route, status and duration, and put into the events', async () => {
    const id = 'req-log-1';
    const answer = await http(
      'POST',
      `${system.commandUrl}/products`,
      { sku: 'LOG-1', name: 'Logged', price: { amount: 100, currency: 'EUR' } },
      { 'X-Correlation-Id': id },
    );
    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-correlation-id')).toBe(id);
    const [line, ...more] = await eventually(async () => {
      const found = requestLines(command.lines, id);
      return found.length ? found : undefined;
    });
    expect(more).toEqual([]);
    expect(line).toEqual(expect.objectContaining({ method: 'POST', route: '/products', status: 201, correlationId: id, level: 30 }));
    expect(line.durationMs).toEqual(expect.any(Number));
    const { rows } = await system.writePool.query<{ correlation: string }>(
      `SELECT metadata->>'correlationId' AS correlation FROM events WHERE stream_id = 'product-LOG-1'`,
    );
    expect(rows).toEqual([{ correlation: id }]);
  });

  it('a request without one gets a generated id, echoed and logged; a refused body too', async () => {
    const answer = await http('POST', `${system.commandUrl}/products`, { sku: 'LOG-2' });
    expect(answer.status).toBe(400);
    const id = answer.headers.get('x-correlation-id')!;
    expect(id).toMatch(UUID);
    const lines = await eventually(async () => {
      const found = requestLines(command.lines, id);
      return found.length ? found : undefined;
    });
    expect(lines).toEqual([expect.objectContaining({ method: 'POST', route: '/products', status: 400, correlationId: id })]);
  });

  it('a query: one line per request, the cached fast path included', async () => {
    await eventually(async () => (await http('GET', `${system.queryUrl}/products/LOG-1`)).status === 200, 30_000, 'LOG-1 in the catalog');
    for (const id of ['query-log-1', 'query-log-2']) {
      const answer = await http('GET', `${system.queryUrl}/products/LOG-1`, undefined, { 'X-Correlation-Id': id });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-correlation-id')).toBe(id);
      const lines = await eventually(async () => {
        const found = requestLines(query.lines, id);
        return found.length ? found : undefined;
      });
      expect(lines).toEqual([expect.objectContaining({ method: 'GET', route: '/products/:sku', status: 200, correlationId: id })]);
    }
  });

  it('a request its client gives up on: one line, marked aborted', async () => {
    // A token far ahead of the view: the query waits for it (up to 5 s) and the client leaves first.
    const ahead = encodeToken({ txId: '999999999', position: 999_999_999, streamId: 'product-LOG-1', version: 1, at: Date.now() });
    const leaving = new AbortController();
    const request = fetch(`${system.queryUrl}/products/LOG-1`, {
      headers: { 'X-Correlation-Id': 'query-log-aborted', 'Consistency-Token': ahead, Prefer: 'wait=5' },
      signal: leaving.signal,
    });
    setTimeout(() => leaving.abort(), 300);
    await expect(request).rejects.toThrow();
    const lines = await eventually(async () => {
      const found = requestLines(query.lines, 'query-log-aborted');
      return found.length ? found : undefined;
    });
    expect(lines).toEqual([
      expect.objectContaining({ method: 'GET', route: '/products/:sku', aborted: true, correlationId: 'query-log-aborted' }),
    ]);
    expect(lines[0].durationMs).toBeLessThan(5_000);
  });

  it("the saga's log lines for an order carry the correlation id of the request that placed it", async () => {
    const id = 'order-log-1';
    // No stock: the saga rejects the order and compensates, logging it.
    const placed = await http(
      'POST',
      `${system.commandUrl}/orders`,
      { customerId: 'c-log', lines: [{ sku: 'LOG-1', quantity: 1 }], paymentToken: 'tok_approve' },
      { 'X-Correlation-Id': id },
    );
    expect(placed.status).toBe(201);
    const line = await eventually(
      async () => saga.lines.find((l) => l.correlationId === id && l.msg === 'order compensated'),
      30_000,
      'the compensation log line',
    );
    expect(line).toEqual(expect.objectContaining({ orderId: placed.body.id, reason: 'stock_unavailable' }));
  });

  it("the payment step carries it too: every event of the order and the payment worker's log lines", async () => {
    const id = 'order-log-2';
    const product = await http('POST', `${system.commandUrl}/products`, {
      sku: 'LOG-2',
      name: 'Paid',
      price: { amount: 100, currency: 'EUR' },
    });
    expect(product.status).toBe(201);
    expect((await http('POST', `${system.commandUrl}/inventory/LOG-2/receipts`, { quantity: 5 })).status).toBe(200);
    // tok_flaky: the gateway answers "unavailable" twice first, which the payment worker logs before it retries.
    const placed = await http(
      'POST',
      `${system.commandUrl}/orders`,
      { customerId: 'c-log', lines: [{ sku: 'LOG-2', quantity: 1 }], paymentToken: 'tok_flaky' },
      { 'X-Correlation-Id': id },
    );
    expect(placed.status).toBe(201);
    const orderId = placed.body.id as string;
    const events = await eventually(
      async () => {
        const { rows } = await system.writePool.query<{ type: string; correlation: string }>(
          `SELECT event_type AS type, metadata->>'correlationId' AS correlation FROM events WHERE stream_id = $1 ORDER BY stream_version`,
          [`order-${orderId}`],
        );
        return rows.some((row) => row.type === 'OrderConfirmed') ? rows : undefined;
      },
      45_000,
      'the order to be confirmed',
    );
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderPaymentAuthorized', 'OrderConfirmed']));
    expect(events.filter((event) => event.correlation !== id)).toEqual([]);
    const retries = saga.lines.filter((l) => l.orderId === orderId && l.msg === 'payment attempt failed, will retry');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.filter((l) => l.correlationId !== id)).toEqual([]);
  });
});
