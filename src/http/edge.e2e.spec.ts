import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ANONYMOUS } from '../../test/support/auth';
import { http, startTestSystem, TestSystem } from '../../test/support/system';

const PROBLEM = /^application\/problem\+json/;

/** Sends raw bytes and resolves with what the server answers before closing (or `timeoutMs`). */
function raw(port: number, request: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, timeoutMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      // One complete answer is enough: the test asserts on it, not on the connection's end.
      const [head, body = ''] = answer.split('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(head);
      if (length && body.length >= Number(length[1])) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(request);
  });
}

const port = (url: string) => Number(new URL(url).port);

/** Each bad input the attack run found answers a 4xx problem+json, never a 500 or a hang (issue 16). */
describe('the edge of both APIs', () => {
  let system: TestSystem;
  let token: string;

  beforeAll(async () => {
    system = await startTestSystem();
    const created = await http('POST', `${system.commandUrl}/products`, {
      sku: 'EDGE-MUG',
      name: 'Edge mug',
      price: { amount: 500, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    token = created.headers.get('consistency-token')!;
  });
  afterAll(() => system?.dispose());

  const expectProblem = (answer: { status: number; contentType: string }, status: number, what: string) =>
    expect({ what, status: answer.status, contentType: answer.contentType }).toEqual({
      what,
      status,
      contentType: expect.stringMatching(PROBLEM),
    });

  it('refuses JSON nested 2,000 deep on every command route before validation', async () => {
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const nestedField = `{"sku":"EDGE-X","name":${deep},"price":{"amount":1,"currency":"EUR"}}`;
    const routes = [
      ['POST', '/products'],
      ['PATCH', '/products/EDGE-MUG'],
      ['PUT', '/products/EDGE-MUG/price'],
      ['POST', '/products/EDGE-MUG/discontinue'],
      ['POST', '/inventory/EDGE-MUG/receipts'],
      ['POST', '/inventory/EDGE-MUG/adjustments'],
      ['POST', '/orders'],
      ['POST', `/orders/${randomUUID()}/cancel`],
      ['POST', `/orders/${randomUUID()}/ship`],
    ];
    for (const [method, path] of routes) {
      for (const body of [deep, nestedField]) {
        const answer = await http(method, `${system.commandUrl}${path}`, body);
        expectProblem(answer, 400, `${method} ${path}`);
      }
    }
  });

  it.each(['gzip', 'deflate', 'br', 'x-unknown'])('answers 415 to Content-Encoding: %s on both APIs', async (coding) => {
    for (const url of [`${system.commandUrl}/products`, `${system.queryUrl}/products`]) {
      const answer = await http('POST', url, '{"sku":"EDGE-Z"}', { 'content-encoding': coding });
      expectProblem(answer, 415, `${coding} ${url}`);
    }
  });

  it('answers 400 to a cursor holding NUL, and to one that is not a cursor', async () => {
    for (const cursor of [
      'WyJuYW1lIiwiXHUwMDAwIiwiTk9URS1BNSJd',
      Buffer.from('["name","a","\\u0000"]').toString('base64url'),
      'not-a-cursor',
      '%00',
    ]) {
      const answer = await http('GET', `${system.queryUrl}/products?cursor=${cursor}`);
      expectProblem(answer, 400, cursor);
    }
  });

  it('answers 413 at once to a declared Content-Length over the limit, without waiting for the body', async () => {
    const answer = await raw(
      port(system.commandUrl),
      `POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"sku":`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
  });

  it('answers CONNECT with a 405 instead of dropping the connection', async () => {
    for (const url of [system.commandUrl, system.queryUrl]) {
      const answer = await raw(port(url), 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 405 /);
      expect(answer).toMatch(/application\/problem\+json/);
    }
  });

  it('takes a price only as an object with a positive integer amount', async () => {
    const prices = [
      [],
      [{ amount: 1, currency: 'EUR' }],
      { amount: 0, currency: 'EUR' },
      { amount: -1, currency: 'EUR' },
      { amount: 1.5, currency: 'EUR' },
      '100',
      null,
    ];
    for (const price of prices) {
      expectProblem(
        await http('POST', `${system.commandUrl}/products`, { sku: 'EDGE-PRICE', name: 'Priced', price }),
        400,
        `register ${JSON.stringify(price)}`,
      );
      expectProblem(await http('PUT', `${system.commandUrl}/products/EDGE-MUG/price`, { price }), 400, `change ${JSON.stringify(price)}`);
    }
    expect((await http('GET', `${system.queryUrl}/products/EDGE-PRICE`)).status).toBe(404);
  });

  it.each(['valueOf', 'toString', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString'])(
    'refuses a field named %s like any unknown field',
    async (field) => {
      const body = `{"sku":"EDGE-PROTO","name":"Proto","price":{"amount":1,"currency":"EUR"},"${field}":1}`;
      const answer = await http('POST', `${system.commandUrl}/products`, body);
      expectProblem(answer, 400, field);
      expect(answer.body.errors).toEqual([expect.objectContaining({ field, messages: [`property ${field} should not exist`] })]);
      const nested = await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, `{"name":"Mug","${field}":{"a":1}}`);
      expectProblem(nested, 400, `nested ${field}`);
    },
  );

  it('wants names with something visible in them', async () => {
    for (const name of [' ', '\u00a0', '\u0085', '\u200b', '\u202e', ' \u200b\u00a0 ', '\u3164']) {
      const label = JSON.stringify(name);
      expectProblem(
        await http('POST', `${system.commandUrl}/products`, { sku: 'EDGE-NAME', name, price: { amount: 1, currency: 'EUR' } }),
        400,
        label,
      );
      expectProblem(await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { name }), 400, `patch ${label}`);
    }
    expect((await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { name: ' Mug\u00a0XL ' })).status).toBe(200);
  });

  it('bounds X-Correlation-Id to 128 printable ASCII characters and ignores X-Actor', async () => {
    for (const id of ['x'.repeat(15_000), 'x'.repeat(129), 'tab\there', 'é']) {
      const answer = await http('POST', `${system.commandUrl}/inventory/EDGE-MUG/receipts`, { quantity: 1 }, { 'x-correlation-id': id });
      expectProblem(answer, 400, `correlation ${id.slice(0, 10)}`);
    }
    const done = await http(
      'POST',
      `${system.commandUrl}/inventory/EDGE-MUG/receipts`,
      { quantity: 1 },
      { 'x-correlation-id': 'c'.repeat(128), 'x-actor': 'order-saga' },
    );
    expect(done.status).toBe(200);
    const { rows } = await system.writePool.query<{ metadata: Record<string, string> }>(
      `SELECT metadata FROM events WHERE stream_id = 'stock-EDGE-MUG' ORDER BY stream_version DESC LIMIT 1`,
    );
    expect(rows[0].metadata).toEqual(expect.objectContaining({ correlationId: 'c'.repeat(128), actor: 'test-admin', actorRole: 'admin' }));
  });

  it('accepts Prefer: wait=N only as a small non-negative integer', async () => {
    for (const prefer of ['wait=1e9', 'wait=0x10', 'wait=abc', 'wait=-1', 'wait=0.5', 'wait=', 'wait=99999999999']) {
      const answer = await http('GET', `${system.queryUrl}/products/EDGE-MUG`, undefined, { 'consistency-token': token, prefer });
      expectProblem(answer, 400, prefer);
    }
    for (const [prefer, applied] of [
      ['wait=0', 'wait=0'],
      ['wait=3', 'wait=3'],
      ['return=minimal, wait=999', 'wait=10'],
    ]) {
      const answer = await http('GET', `${system.queryUrl}/products/EDGE-MUG`, undefined, { 'consistency-token': token, prefer });
      expect({ prefer, status: answer.status, applied: answer.headers.get('preference-applied') }).toEqual({
        prefer,
        status: 200,
        applied,
      });
    }
  });

  it('records the Idempotency-Key of a command that changes nothing', async () => {
    const key = randomUUID();
    const first = await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { description: '' }, { 'idempotency-key': key });
    const same = await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { description: '' }, { 'idempotency-key': key });
    expect([first.status, same.status]).toEqual([200, 200]);
    const unchanged = await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, {}, { 'idempotency-key': randomUUID() });
    expect(unchanged.status).toBeLessThan(500);
    const noop = randomUUID();
    const current = await http('GET', `${system.queryUrl}/products/EDGE-MUG`, undefined, {
      'consistency-token': same.headers.get('consistency-token') ?? token,
    });
    expect(
      (await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { name: current.body.data.name }, { 'idempotency-key': noop })).status,
    ).toBe(200);
    const reused = await http('PATCH', `${system.commandUrl}/products/EDGE-MUG`, { name: 'Another name' }, { 'idempotency-key': noop });
    expectProblem(reused, 422, 'same key, other body');
  });

  it('sends security headers on every answer, public or refused', async () => {
    for (const [url, authorization] of [
      [`${system.queryUrl}/products/EDGE-MUG`, ANONYMOUS],
      [`${system.commandUrl}/products`, ANONYMOUS],
      [`${system.queryUrl}/projections`, undefined],
    ] as const) {
      const answer = await http(
        url.endsWith('/products') ? 'POST' : 'GET',
        url,
        url.endsWith('/products') ? {} : undefined,
        authorization === undefined ? {} : { authorization },
      );
      expect({ url, nosniff: answer.headers.get('x-content-type-options'), frame: answer.headers.get('x-frame-options') }).toEqual({
        url,
        nosniff: 'nosniff',
        frame: 'SAMEORIGIN',
      });
    }
  });
});

describe('CORS and rate limiting, when configured', () => {
  let system: TestSystem;
  const origin = 'https://shop.example.com';

  beforeAll(async () => {
    system = await startTestSystem({
      pieces: ['command-api', 'query-api'],
      env: {
        CORS_ORIGINS: `${origin},https://admin.example.com`,
        RATE_LIMIT_REQUESTS: '30',
        RATE_LIMIT_WINDOW_SECONDS: '60',
        HOST: '127.0.0.1',
      },
    });
  });
  afterAll(() => system?.dispose());

  it('answers a preflight from an allowed origin, and gives no CORS headers to another', async () => {
    const preflight = await http('OPTIONS', `${system.commandUrl}/orders`, undefined, {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const read = await http('GET', `${system.queryUrl}/products`, undefined, { origin });
    expect(read.headers.get('access-control-allow-origin')).toBe(origin);
    const foreign = await http('GET', `${system.queryUrl}/products`, undefined, { origin: 'https://evil.example.com' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 429 with Retry-After once a client passes the limit', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof http>> | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await http('GET', `${system.queryUrl}/products/NOPE-${i}`, undefined, { authorization: ANONYMOUS });
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    expect(limited).toBeDefined();
    expect(limited!.contentType).toMatch(PROBLEM);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Without TRUST_PROXY a forwarded-for header changes nothing: a client cannot name itself anew.
    const forged = await http('GET', `${system.queryUrl}/products/NOPE-x`, undefined, {
      authorization: ANONYMOUS,
      'x-forwarded-for': '203.0.113.99',
    });
    expect(forged.status).toBe(429);
    // The other API counts on its own.
    expect((await http('GET', `${system.commandUrl}/health/live`)).status).toBe(200);
  });
});

describe('rate limiting behind a trusted proxy (TRUST_PROXY)', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // The test's requests come from 127.0.0.1, standing in for a load balancer on the loopback.
    system = await startTestSystem({
      pieces: ['query-api'],
      env: { TRUST_PROXY: 'loopback', RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW_SECONDS: '60', HOST: '127.0.0.1' },
    });
  });
  afterAll(() => system?.dispose());

  const from = (client: string) =>
    http('GET', `${system.queryUrl}/products/NOPE`, undefined, { authorization: ANONYMOUS, 'x-forwarded-for': client });

  it('counts each client the proxy forwards for on its own, not the proxy', async () => {
    const first: number[] = [];
    for (let i = 0; i < 7; i++) first.push((await from('203.0.113.1')).status);
    expect(first.slice(0, 5).filter((status) => status === 429)).toEqual([]);
    expect(first.slice(5)).toEqual([429, 429]);
    // Another client behind the same proxy still has its whole allowance.
    const second: number[] = [];
    for (let i = 0; i < 5; i++) second.push((await from('203.0.113.2')).status);
    expect(second.filter((status) => status === 429)).toEqual([]);
    // A client that forwards a forged address of its own is counted by the address the proxy saw (the rightmost untrusted).
    expect((await from('198.51.100.7, 203.0.113.1')).status).toBe(429);
  });
});
