import { randomUUID } from 'node:crypto';
import { eventually, http, TestSystem } from './system';
import { testToken } from './auth';

/** One request to a documented operation, with the status it must get. */
export interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** A body sent as is, with its content type (malformed JSON, wrong media type). */
  raw?: { body: string; type: string };
  expect: number;
  /** Headers the answer must carry with these values (beyond what the document requires). */
  answerHeaders?: Record<string, string>;
  /** The problem type the answer must have. */
  problem?: string;
}

export interface Fixture {
  system: TestSystem;
  /** The newest command's token: valid reads send it, so every View-* header must be there. */
  token: string;
  sku: string;
  customerId: string;
  /** A confirmed order (shipped by shipOrder's valid call). */
  orderId: string;
  today: string;
}

export interface Case {
  valid: (f: Fixture) => Promise<Call>;
  /** Other successful answers the operation documents (a stale If-Match resolved by its conflict policy). */
  alsoValid?: ((f: Fixture) => Promise<Call>)[];
  /** Invalid requests, and conditional ones that answer 304. */
  invalid: ((f: Fixture) => Promise<Call>)[];
}

const price = (amount: number, currency = 'EUR') => ({ amount, currency });
const unknownSku = async () => ({ params: { sku: 'CT-NOPE' }, body: { quantity: 1 }, expect: 404 });
// An own `__proto__` key (a literal would set the prototype): the shared middleware refuses it on every route.
const reservedQuery = async () => ({ query: Object.fromEntries([['__proto__', 'x']]), expect: 400 });
const read = (f: Fixture, call: Omit<Call, 'expect'>, expect = 200): Call => ({
  ...call,
  headers: { 'Consistency-Token': f.token, Prefer: 'wait=5', ...call.headers },
  expect,
  ...(expect === 200 && { answerHeaders: { 'View-Stale': 'false', 'Preference-Applied': 'wait=5' } }),
});

/** A product of the case's own at version 1, then `steps` commands on it without If-Match. */
async function productWithHistory(f: Fixture, sku: string, steps: [string, string, unknown][] = []): Promise<void> {
  const registered = await http('POST', `${f.system.commandUrl}/products`, { sku, name: 'Mug', description: 'White', price: price(900) });
  if (registered.status !== 201) throw new Error(`registering ${sku} failed: ${JSON.stringify(registered.body)}`);
  for (const [method, path, body] of steps) {
    const done = await http(method, `${f.system.commandUrl}${path.replace('{sku}', sku)}`, body, {
      authorization: await testToken('admin', 'ct-other'),
    });
    if (done.status !== 200) throw new Error(`${method} ${path} failed: ${JSON.stringify(done.body)}`);
  }
}
const stale = { 'If-Match': '"1"' };

export async function placeOrder(f: Fixture, paymentToken = 'tok_approve'): Promise<string> {
  const lines = [{ sku: f.sku, quantity: 1 }];
  const placed = await http('POST', `${f.system.commandUrl}/orders`, { customerId: f.customerId, lines, paymentToken });
  if (placed.status !== 201) throw new Error(`placing an order failed: ${JSON.stringify(placed.body)}`);
  return placed.body.id;
}

export async function orderStatus(f: Fixture, id: string, status: string): Promise<void> {
  await eventually(
    async () => (await http('GET', `${f.system.queryUrl}/orders/${id}`)).body?.data?.status === status,
    15_000,
    `order ${status}`,
  );
}

async function etagOf(f: Fixture, path: string): Promise<string> {
  const answer = await http('GET', `${f.system.queryUrl}${path}`, undefined, { 'Consistency-Token': f.token });
  return answer.headers.get('etag')!;
}

/** Keyed `<api>:<operationId>`; the spec fails when a documented operation has no case here. */
export const cases: Record<string, Case> = {
  'command:registerProduct': {
    valid: async () => ({ body: { sku: 'CT-NEW', name: 'New mug', description: 'fresh', price: price(900) }, expect: 201 }),
    invalid: [
      async () => ({ body: { sku: 'bad sku!', name: '', price: { amount: -1, currency: 'eur' }, extra: 1 }, expect: 400 }),
      async (f) => ({ body: { sku: f.sku, name: 'again', price: price(1) }, expect: 409 }),
      async () => ({ raw: { body: '{"sku": ', type: 'application/json' }, expect: 400 }),
      async () => ({ raw: { body: 'sku=CT-X', type: 'application/x-www-form-urlencoded' }, expect: 415 }),
      async () => ({ body: { sku: 'CT-BIG', name: 'x'.repeat(70_000), price: price(1) }, expect: 413 }),
      async () => ({ headers: { 'If-Match': '"7"' }, body: { sku: 'CT-412', name: 'n', price: price(1) }, expect: 412 }),
      async (f) => {
        const headers = { 'Idempotency-Key': 'ct-key-1' };
        await http('POST', `${f.system.commandUrl}/products`, { sku: 'CT-IDEM', name: 'n', price: price(1) }, headers);
        return { headers, body: { sku: 'CT-IDEM', name: 'other', price: price(1) }, expect: 422 };
      },
    ],
  },
  'command:updateProductDetails': {
    valid: async (f) => ({ params: { sku: f.sku }, body: { name: 'Contract mug' }, expect: 200 }),
    invalid: [
      async (f) => ({ params: { sku: f.sku }, body: { name: 5 }, expect: 400 }),
      async () => ({ params: { sku: 'CT-NOPE' }, body: { name: 'x' }, expect: 404 }),
      async (f) => ({ params: { sku: f.sku }, headers: { 'If-Match': '"99"' }, body: { name: 'lost' }, expect: 412 }),
      async (f) => ({ params: { sku: f.sku }, headers: { 'Idempotency-Key': 'has space' }, body: { name: 'x' }, expect: 400 }),
      async (f) => {
        await productWithHistory(f, 'CT-EDIT', [['PATCH', '/products/{sku}', { name: 'Their mug' }]]);
        const problem = 'urn:converge:problem:edit-conflict';
        return { params: { sku: 'CT-EDIT' }, headers: stale, body: { name: 'My mug' }, expect: 409, problem };
      },
      async (f) => {
        await productWithHistory(f, 'CT-GONE', [['POST', '/products/{sku}/discontinue', undefined]]);
        const problem = 'urn:converge:problem:product-discontinued';
        return { params: { sku: 'CT-GONE' }, headers: stale, body: { description: 'Blue' }, expect: 409, problem };
      },
    ],
    alsoValid: [
      async (f) => {
        await productWithHistory(f, 'CT-MERGE', [['PATCH', '/products/{sku}', { name: 'Their mug' }]]);
        const answerHeaders = { 'Conflict-Resolution': 'merged' };
        return { params: { sku: 'CT-MERGE' }, headers: stale, body: { description: 'Blue' }, expect: 200, answerHeaders };
      },
    ],
  },
  'command:changeProductPrice': {
    valid: async (f) => ({ params: { sku: f.sku }, body: { price: price(1499) }, expect: 200 }),
    invalid: [
      async (f) => ({ params: { sku: f.sku }, body: { price: price(1499, 'USD') }, expect: 409 }),
      async (f) => ({ params: { sku: f.sku }, body: {}, expect: 400 }),
      async () => ({ params: { sku: 'CT-NOPE' }, body: { price: price(1) }, expect: 404 }),
      async (f) => {
        await productWithHistory(f, 'CT-PRICE', [['PATCH', '/products/{sku}', { description: 'Blue' }]]);
        return { params: { sku: 'CT-PRICE' }, headers: stale, body: { price: price(1500) }, expect: 412 };
      },
    ],
  },
  'command:discontinueProduct': {
    valid: async (f) => {
      await http('POST', `${f.system.commandUrl}/products`, { sku: 'CT-OLD', name: 'Old mug', price: price(100) });
      return { params: { sku: 'CT-OLD' }, expect: 200 };
    },
    invalid: [
      async () => ({ params: { sku: 'CT-OLD' }, expect: 409 }),
      async () => ({ params: { sku: '-bad' }, expect: 400 }),
      async () => ({ params: { sku: 'CT-NOPE' }, expect: 404 }),
    ],
    alsoValid: [
      async (f) => {
        await productWithHistory(f, 'CT-RETIRE', [['PATCH', '/products/{sku}', { name: 'Their mug' }]]);
        return { params: { sku: 'CT-RETIRE' }, headers: stale, expect: 200, answerHeaders: { 'Conflict-Resolution': 'merged' } };
      },
    ],
  },
  'command:receiveStock': {
    valid: async (f) => ({ params: { sku: f.sku }, body: { quantity: 5 }, expect: 200 }),
    invalid: [async (f) => ({ params: { sku: f.sku }, body: { quantity: 0 }, expect: 400 }), unknownSku],
    alsoValid: [
      async (f) => {
        await productWithHistory(f, 'CT-STOCK', [
          ['POST', '/inventory/{sku}/receipts', { quantity: 5 }],
          ['POST', '/inventory/{sku}/receipts', { quantity: 5 }],
        ]);
        return {
          params: { sku: 'CT-STOCK' },
          headers: stale,
          body: { quantity: 1 },
          expect: 200,
          answerHeaders: { 'Conflict-Resolution': 'rebased' },
        };
      },
    ],
  },
  'command:adjustStock': {
    valid: async (f) => ({ params: { sku: f.sku }, body: { quantity: -1, reason: 'dropped' }, expect: 200 }),
    invalid: [
      async (f) => ({ params: { sku: f.sku }, body: { quantity: -100_000, reason: 'too many' }, expect: 409 }),
      async (f) => ({ params: { sku: f.sku }, body: { quantity: 0, reason: 'none' }, expect: 400 }),
      async (f) => {
        await productWithHistory(f, 'CT-SHORT', [
          ['POST', '/inventory/{sku}/receipts', { quantity: 5 }],
          ['POST', '/inventory/{sku}/adjustments', { quantity: -4, reason: 'broken' }],
        ]);
        const problem = 'urn:converge:problem:negative-stock';
        return { params: { sku: 'CT-SHORT' }, headers: stale, body: { quantity: -2, reason: 'lost' }, expect: 409, problem };
      },
    ],
    alsoValid: [
      async (f) => {
        await productWithHistory(f, 'CT-ADJUST', [
          ['POST', '/inventory/{sku}/receipts', { quantity: 5 }],
          ['POST', '/inventory/{sku}/adjustments', { quantity: -1, reason: 'broken' }],
        ]);
        const answerHeaders = { 'Conflict-Resolution': 'rebased' };
        return { params: { sku: 'CT-ADJUST' }, headers: stale, body: { quantity: -2, reason: 'lost' }, expect: 200, answerHeaders };
      },
    ],
  },
  'command:placeOrder': {
    valid: async (f) => ({
      body: { customerId: f.customerId, lines: [{ sku: f.sku, quantity: 2 }], paymentToken: 'tok_approve' },
      expect: 201,
    }),
    invalid: [
      async (f) => ({ body: { customerId: f.customerId, lines: [], paymentToken: 'tok_approve' }, expect: 400 }),
      async (f) => ({
        body: { customerId: f.customerId, lines: [{ sku: 'CT-NOPE', quantity: 1 }], paymentToken: 'tok_approve' },
        expect: 422,
      }),
    ],
  },
  'command:cancelOrder': {
    valid: async (f) => ({ params: { id: await placeOrder(f) }, body: { reason: 'changed my mind' }, expect: 200 }),
    invalid: [
      async (f) => {
        const id = await placeOrder(f);
        await http('POST', `${f.system.commandUrl}/orders/${id}/cancel`, {});
        return { params: { id }, body: {}, expect: 409 };
      },
      async () => ({ params: { id: 'not-a-uuid' }, body: {}, expect: 400 }),
      async () => ({ params: { id: randomUUID() }, body: {}, expect: 404 }),
    ],
  },
  'command:shipOrder': {
    valid: async (f) => ({ params: { id: f.orderId }, expect: 200 }),
    invalid: [
      async (f) => ({ params: { id: f.orderId }, expect: 409 }),
      async () => ({ params: { id: randomUUID() }, expect: 404 }),
      async () => ({ params: { id: 'not-a-uuid' }, expect: 400 }),
    ],
  },
  'command:live': { valid: async () => ({ expect: 200 }), invalid: [reservedQuery] },
  'command:ready': { valid: async () => ({ expect: 200 }), invalid: [reservedQuery] },
  'query:listProducts': {
    valid: async (f) => read(f, { query: { limit: '1', sort: '-price', status: 'active' } }),
    invalid: [
      async () => ({ query: { limit: '0' }, expect: 400 }),
      async () => ({ query: { sort: 'bogus', color: 'red' }, expect: 400 }),
      async () => ({ query: { cursor: 'garbage' }, expect: 400 }),
    ],
  },
  'query:getProduct': {
    valid: async (f) => read(f, { params: { sku: f.sku } }),
    invalid: [
      async (f) => read(f, { params: { sku: f.sku }, headers: { 'If-None-Match': await etagOf(f, `/products/${f.sku}`) } }, 304),
      async () => ({ params: { sku: 'CT-NOPE' }, expect: 404 }),
      async () => ({ params: { sku: '-bad' }, expect: 400 }),
      async (f) => ({ params: { sku: f.sku }, query: { after: 'garbage' }, expect: 400 }),
    ],
  },
  'query:listInventory': {
    valid: async (f) => read(f, { query: { lowStock: 'false', limit: '5' } }),
    invalid: [async () => ({ query: { lowStock: 'maybe' }, expect: 400 })],
  },
  'query:getInventory': {
    valid: async (f) => read(f, { params: { sku: f.sku } }),
    invalid: [
      async (f) => read(f, { params: { sku: f.sku }, headers: { 'If-None-Match': await etagOf(f, `/inventory/${f.sku}`) } }, 304),
      async () => ({ params: { sku: 'CT-NOPE' }, expect: 404 }),
      async () => ({ params: { sku: '-bad' }, expect: 400 }),
    ],
  },
  'query:getOrder': {
    valid: async (f) => read(f, { params: { id: f.orderId } }),
    invalid: [
      async (f) => read(f, { params: { id: f.orderId }, headers: { 'If-None-Match': await etagOf(f, `/orders/${f.orderId}`) } }, 304),
      async () => ({ params: { id: randomUUID() }, expect: 404 }),
      async () => ({ params: { id: 'not-a-uuid' }, expect: 400 }),
      async (f) => ({ params: { id: f.orderId }, headers: { 'Consistency-Token': 'garbage' }, expect: 400 }),
    ],
  },
  'query:listCustomerOrders': {
    valid: async (f) => read(f, { params: { id: f.customerId }, query: { limit: '2' } }),
    invalid: [
      async () => ({ params: { id: 'bad id!' }, expect: 400 }),
      async (f) => ({ params: { id: f.customerId }, query: { status: 'lost' }, expect: 400 }),
    ],
  },
  'query:getDailySales': {
    valid: async (f) => read(f, { query: { from: f.today, to: f.today } }),
    invalid: [
      async () => ({ query: { from: '2026-02-30', to: '2026-03-01' }, expect: 400 }),
      async () => ({ query: { from: '2026-01-01' }, expect: 400 }),
    ],
  },
  'query:listProjections': { valid: async () => ({ expect: 200 }), invalid: [reservedQuery] },
  'query:live': { valid: async () => ({ expect: 200 }), invalid: [reservedQuery] },
  'query:ready': { valid: async () => ({ expect: 200 }), invalid: [reservedQuery] },
};
