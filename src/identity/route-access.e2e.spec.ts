import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANONYMOUS, testToken } from '../../test/support/auth';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';
import { projectRoot } from '../paths';
import { cell, renderAccessTable, ROUTE_ACCESS, RouteAccess, RouteKey } from './route-access';
import { ROLES, Role } from './roles';

const OWNER = 'cust-a';
const OTHER = 'cust-b';
const SKU = 'RA-MUG';
const RETIRED = 'RA-OLD';
const subjectOf = (role: Role) => (role === 'customer' ? OWNER : `ra-${role}`);
const today = new Date().toISOString().slice(0, 10);

interface Request {
  method: string;
  api: 'command' | 'query';
  path: string;
  body?: unknown;
}

/**
 * Every route of ROUTE_ACCESS (the README's table) with every role, anonymously, and for the
 * ownership routes with the caller's own and another customer's resources: a role the table
 * refuses gets 403, no token 401, another customer's order 404 (as if it did not exist).
 */
describe('route × role × ownership', () => {
  let system: TestSystem;
  const orders: Record<'own' | 'other', string> = { own: '', other: '' };
  let serial = 0;

  beforeAll(async () => {
    system = await startTestSystem();
    for (const sku of [SKU, RETIRED]) {
      expect(
        (await http('POST', `${system.commandUrl}/products`, { sku, name: 'Route mug', price: { amount: 900, currency: 'EUR' } })).status,
      ).toBe(201);
    }
    expect((await http('POST', `${system.commandUrl}/inventory/${SKU}/receipts`, { quantity: 1000 })).status).toBe(200);
    for (const [which, customerId] of [
      ['own', OWNER],
      ['other', OTHER],
    ] as const) {
      const placed = await http('POST', `${system.commandUrl}/orders`, {
        customerId,
        lines: [{ sku: SKU, quantity: 1 }],
        paymentToken: 'tok_approve',
      });
      expect(placed.status).toBe(201);
      orders[which] = placed.body.id;
    }
    // Reads of the orders must find them: wait until both views hold both.
    await eventually(
      async () => (await http('GET', `${system.queryUrl}/orders/${orders.other}`)).status === 200,
      30_000,
      'the orders in the view',
    );
    await eventually(
      async () => (await http('GET', `${system.queryUrl}/customers/${OTHER}/orders`)).body?.data?.length === 1,
      30_000,
      "cust-b's orders",
    );
  }, 120_000);
  afterAll(() => system?.dispose());

  /** A valid request for the route; `whose` picks the resource on ownership routes. */
  function request(route: RouteKey, whose: 'own' | 'other'): Request {
    const order = orders[whose];
    const customer = whose === 'own' ? OWNER : OTHER;
    const sku = `RA-NEW-${++serial}`;
    const price = { amount: 1000 + serial, currency: 'EUR' };
    const requests: Record<RouteKey, Omit<Request, 'method'>> = {
      'POST /products': { api: 'command', path: '/products', body: { sku, name: 'New', price } },
      'PATCH /products/{sku}': { api: 'command', path: `/products/${SKU}`, body: { name: `Mug ${serial}` } },
      'PUT /products/{sku}/price': { api: 'command', path: `/products/${SKU}/price`, body: { price } },
      'POST /products/{sku}/discontinue': { api: 'command', path: `/products/${RETIRED}/discontinue` },
      'POST /inventory/{sku}/receipts': { api: 'command', path: `/inventory/${SKU}/receipts`, body: { quantity: 1 } },
      'POST /inventory/{sku}/adjustments': {
        api: 'command',
        path: `/inventory/${SKU}/adjustments`,
        body: { quantity: 1, reason: 'count' },
      },
      'POST /orders': {
        api: 'command',
        path: '/orders',
        body: { customerId: customer, lines: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_approve' },
      },
      'POST /orders/{id}/cancel': { api: 'command', path: `/orders/${order}/cancel`, body: { reason: 'route test' } },
      'POST /orders/{id}/ship': { api: 'command', path: `/orders/${order}/ship` },
      'GET /products': { api: 'query', path: '/products' },
      'GET /products/{sku}': { api: 'query', path: `/products/${SKU}` },
      'GET /inventory/{sku}': { api: 'query', path: `/inventory/${SKU}` },
      'GET /inventory': { api: 'query', path: '/inventory?lowStock=true' },
      'GET /orders/{id}': { api: 'query', path: `/orders/${order}` },
      'GET /customers/{id}/orders': { api: 'query', path: `/customers/${customer}/orders` },
      'GET /reports/daily-sales': { api: 'query', path: `/reports/daily-sales?from=${today}&to=${today}` },
      'GET /projections': { api: 'query', path: '/projections' },
      'GET /metrics': { api: 'query', path: '/metrics' },
      'GET /status': { api: 'query', path: '/status' },
      'GET /status/data': { api: 'query', path: '/status/data' },
    };
    return { method: route.split(' ')[0], ...requests[route] };
  }

  async function call(req: Request, authorization: string, api = req.api) {
    const base = api === 'command' ? system.commandUrl : system.queryUrl;
    return http(req.method, `${base}${req.path}`, req.body, { authorization });
  }

  const routes = Object.keys(ROUTE_ACCESS) as RouteKey[];
  const apis = (route: RouteKey) => {
    const { api } = ROUTE_ACCESS[route] as RouteAccess;
    return api === 'both' ? (['command', 'query'] as const) : ([api] as const);
  };

  it.each(routes)('%s: each role as the table says', async (route) => {
    const access: RouteAccess = ROUTE_ACCESS[route];
    for (const api of apis(route)) {
      const anonymous = await call(request(route, 'own'), ANONYMOUS, api);
      const expectAnonymous = access.roles === 'public' ? 'served' : 401;
      expect({
        route,
        api,
        anonymous: access.roles === 'public' ? (anonymous.status < 400 ? 'served' : anonymous.status) : anonymous.status,
      }).toEqual({
        route,
        api,
        anonymous: expectAnonymous,
      });
      if (anonymous.status === 401) expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
      for (const role of ROLES) {
        const token = await testToken(role, subjectOf(role));
        const what = cell(access, role);
        const outcomes: Record<string, string | number> = {};
        const own = await call(request(route, 'own'), token, api);
        outcomes.own = allowedOrStatus(own.status);
        if (what === 'own') outcomes.other = allowedOrStatus((await call(request(route, 'other'), token, api)).status);
        const expected: Record<string, string | number> =
          what === 'no'
            ? { own: 403 }
            : what === 'own'
              ? { own: 'allowed', other: route === 'POST /orders' ? 403 : 404 }
              : { own: 'allowed' };
        expect({ route, api, role, ...outcomes, contentType: own.status >= 400 ? own.contentType : 'n/a' }).toEqual({
          route,
          api,
          role,
          ...expected,
          contentType: own.status >= 400 ? expect.stringMatching(/^application\/problem\+json/) : 'n/a',
        });
      }
    }
  });

  it('the README shows this very table, and every documented operation has a row', async () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    expect(readme).toContain(renderAccessTable());
    for (const api of ['command', 'query'] as const) {
      const document = (
        await http('GET', `${api === 'command' ? system.commandUrl : system.queryUrl}/openapi.json`, undefined, {
          authorization: ANONYMOUS,
        })
      ).body;
      for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
        if (path.startsWith('/health/')) continue;
        for (const [method, operation] of Object.entries(item)) {
          const key = `${method.toUpperCase()} ${path}` as RouteKey;
          const access = ROUTE_ACCESS[key] as RouteAccess | undefined;
          expect({ key, api: access && [access.api, 'both'].includes(access.api) ? api : access?.api }).toEqual({ key, api });
          expect({ key, security: operation.security ?? 'document default' }).toEqual({
            key,
            security: access?.roles === 'public' ? [] : 'document default',
          });
        }
      }
    }
  });

  it("another customer's order answers exactly like an order that does not exist, headers included", async () => {
    const token = await testToken('customer', OWNER);
    const unknown = '0b6f3c52-9d4e-4b8a-a1f7-5f2c8e9d7a31';
    const answers = await Promise.all(
      [orders.other, unknown].map((id) => http('GET', `${system.queryUrl}/orders/${id}`, undefined, { authorization: token })),
    );
    const seen = answers.map((answer) => comparable(answer, [orders.other, unknown]));
    expect(seen[0].status).toBe(404);
    expect(seen[0]).toEqual(seen[1]);
  });

  it("cancelling another customer's order answers exactly like cancelling one that does not exist", async () => {
    const token = await testToken('customer', OWNER);
    const unknown = '0b6f3c52-9d4e-4b8a-a1f7-5f2c8e9d7a31';
    const answers = await Promise.all(
      [orders.other, unknown].map((id) =>
        http('POST', `${system.commandUrl}/orders/${id}/cancel`, { reason: 'not mine' }, { authorization: token }),
      ),
    );
    const seen = answers.map((answer) => comparable(answer, [orders.other, unknown]));
    expect(seen[0].status).toBe(404);
    expect(seen[0]).toEqual(seen[1]);
  });

  /** An answer's status, headers and body without what differs between any two requests (dates, ids, rate-limit counts). */
  function comparable(answer: Awaited<ReturnType<typeof http>>, ids: string[]) {
    const volatile = new Set(['date', 'x-correlation-id', 'ratelimit', 'ratelimit-policy', 'ratelimit-remaining', 'ratelimit-reset']);
    return {
      status: answer.status,
      headers: [...answer.headers.keys()].filter((name) => !volatile.has(name)).map((name) => [name, answer.headers.get(name)]),
      body: ids.reduce((text, id) => text.replaceAll(id, '<id>'), JSON.stringify(answer.body)),
    };
  }

  it("a customer's order is placed in its own name, with the token's subject and role as the events' actor", async () => {
    const token = await testToken('customer', 'cust-c');
    const placed = await http(
      'POST',
      `${system.commandUrl}/orders`,
      { lines: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_approve' },
      { authorization: token },
    );
    expect(placed.status).toBe(201);
    const { rows } = await system.writePool.query<{ data: { customerId: string }; metadata: Record<string, string> }>(
      `SELECT data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [`order-${placed.body.id}`],
    );
    expect(rows[0].data.customerId).toBe('cust-c');
    expect(rows[0].metadata).toEqual(expect.objectContaining({ actor: 'cust-c', actorRole: 'customer' }));
    const list = await eventually(async () => {
      const answer = await http('GET', `${system.queryUrl}/customers/cust-c/orders`, undefined, { authorization: token });
      return answer.body?.data?.length === 1 && answer;
    });
    expect(list.body.data[0].id).toBe(placed.body.id);
  });

  it('refuses expired, wrongly signed and malformed tokens with 401 and WWW-Authenticate', async () => {
    const expired = await testToken('admin', 'ra-admin', -60);
    const foreign = await testToken('admin', 'ra-admin', 3600, 'x'.repeat(43));
    for (const authorization of [expired, foreign, 'Bearer not.a.jwt', 'Basic YWRtaW46YWRtaW4=', 'Bearer ']) {
      const answer = await http('GET', `${system.queryUrl}/projections`, undefined, { authorization });
      expect({ authorization, status: answer.status, type: answer.body?.type }).toEqual({
        authorization,
        status: 401,
        type: 'urn:converge:problem:unauthenticated',
      });
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="converge", error="invalid_(token|request)"/);
    }
  });
});

/** Refused (401, 403, 404) or anything else the route may answer to an allowed caller (2xx, 409 on a repeat). */
function allowedOrStatus(status: number): string | number {
  return [401, 403, 404].includes(status) || status >= 500 ? status : 'allowed';
}
