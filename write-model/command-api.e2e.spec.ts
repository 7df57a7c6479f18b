import { testToken } from '../test/support/auth';
import { http, startTestSystem, TestSystem } from '../test/support/system';

/** The command API over HTTP: every bad request is a clear 4xx problem and writes nothing. */
let system: TestSystem;
const url = (path: string) => `${system.commandUrl}${path}`;
const eventCount = async (): Promise<number> =>
  (await system.writePool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0].n;

const product = (sku: string, extra: Record<string, unknown> = {}) => ({
  sku,
  name: 'Enamel mug',
  description: 'Holds 350 ml',
  price: { amount: 1299, currency: 'EUR' },
  ...extra,
});

type Response = Awaited<ReturnType<typeof http>>;

/** A problem document without anything an attacker could learn the code's layout from. */
function expectProblem(res: Response, status: number, field?: string): void {
  expect(res.status).toBe(status);
  expect(res.contentType.startsWith('application/problem+json')).toBe(true);
  expect(res.body).toEqual(expect.objectContaining({ status, title: expect.any(String) }));
  expect(res.body.type).toMatch(/^urn:converge:problem:[a-z0-9-]+$/);
  expect(res.body.title.length).toBeGreaterThan(0);
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|\bat (?:\/|file:|node:)|\\n\s+at /);
  expect(text).not.toMatch(/\.(?:ts|js):\d+|node_modules|\/work\/|\/home\/|[A-Z]:\\\\/);
  expect(res.body.stack).toBeUndefined();
  if (field !== undefined) {
    expect(Array.isArray(res.body.errors)).toBe(true);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  }
}

beforeAll(async () => {
  system = await startTestSystem({ pieces: ['command-api'] });
  const ok = (res: Response) => expect(res.status).toBeLessThan(300);
  ok(await http('POST', url('/products'), product('MUG-1')));
  ok(await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 5 }));
  ok(await http('POST', url('/products'), product('OLD-1')));
  ok(await http('POST', url('/products/OLD-1/discontinue')));
});

afterAll(async () => {
  await system?.dispose();
});

interface BadRequest {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  field?: string;
  reason?: string;
}

const longSku = 'A'.repeat(65);
const cases: BadRequest[] = [
  // Body parsing and media type
  { name: 'malformed JSON', method: 'POST', path: '/products', body: '{"sku": "X-1", "name": ', status: 400 },
  { name: 'JSON that is not an object', method: 'POST', path: '/products', body: '"just a string"', status: 400 },
  { name: 'JSON array body', method: 'POST', path: '/products', body: '[]', status: 400 },
  { name: 'body over the limit (100 kB)', method: 'POST', path: '/products', body: product('BIG-1', { description: 'x'.repeat(100_000) }), status: 413 },
  { name: 'text/plain body', method: 'POST', path: '/products', body: JSON.stringify(product('TXT-1')), headers: { 'content-type': 'text/plain' }, status: 415 },
  // Wrong types
  { name: 'price.amount as string', method: 'POST', path: '/products', body: product('T-1', { price: { amount: '12', currency: 'EUR' } }), status: 400, field: 'price.amount' },
  { name: 'name as number', method: 'POST', path: '/products', body: product('T-2', { name: 42 }), status: 400, field: 'name' },
  { name: 'price as string', method: 'PUT', path: '/products/MUG-1/price', body: { price: '12.99' }, status: 400, field: 'price' },
  { name: 'bad currency', method: 'PUT', path: '/products/MUG-1/price', body: { price: { amount: 1, currency: 'euro' } }, status: 400, field: 'price.currency' },
  { name: 'negative price', method: 'PUT', path: '/products/MUG-1/price', body: { price: { amount: -1, currency: 'EUR' } }, status: 400, field: 'price.amount' },
  { name: 'receipt quantity 1.5', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 1.5 }, status: 400, field: 'quantity' },
  { name: 'receipt quantity as string', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: '3' }, status: 400, field: 'quantity' },
  // Unknown fields
  { name: 'unknown top-level field', method: 'POST', path: '/products', body: product('U-1', { admin: true }), status: 400, field: 'admin' },
  { name: 'unknown nested field', method: 'POST', path: '/products', body: product('U-2', { price: { amount: 1, currency: 'EUR', discount: 5 } }), status: 400, field: 'price.discount' },
  { name: 'unknown field on PATCH', method: 'PATCH', path: '/products/MUG-1', body: { status: 'discontinued' }, status: 400, field: 'status' },
  { name: 'unknown field on receipts', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 1, onHand: 999 }, status: 400, field: 'onHand' },
  // Missing required fields
  { name: 'empty registration', method: 'POST', path: '/products', body: {}, status: 400, field: 'sku' },
  { name: 'registration without price', method: 'POST', path: '/products', body: { sku: 'M-1', name: 'Mug' }, status: 400, field: 'price' },
  { name: 'registration without name', method: 'POST', path: '/products', body: { sku: 'M-2', price: { amount: 1, currency: 'EUR' } }, status: 400, field: 'name' },
  { name: 'price without currency', method: 'PUT', path: '/products/MUG-1/price', body: { price: { amount: 1 } }, status: 400, field: 'price.currency' },
  { name: 'receipt without body', method: 'POST', path: '/inventory/MUG-1/receipts', status: 400, field: 'quantity' },
  // Quantities
  { name: 'receipt of 0', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 0 }, status: 400, field: 'quantity' },
  { name: 'receipt of -1', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: -1 }, status: 400, field: 'quantity' },
  { name: 'receipt of 1e9', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 1e9 }, status: 400, field: 'quantity' },
  { name: 'receipt of 2^53', method: 'POST', path: '/inventory/MUG-1/receipts', body: '{"quantity": 9007199254740992}', status: 400, field: 'quantity' },
  { name: 'adjustment of 0', method: 'POST', path: '/inventory/MUG-1/adjustments', body: { quantity: 0, reason: 'count' }, status: 400, field: 'quantity' },
  { name: 'adjustment without reason', method: 'POST', path: '/inventory/MUG-1/adjustments', body: { quantity: -1 }, status: 400, field: 'reason' },
  { name: 'adjustment with empty reason', method: 'POST', path: '/inventory/MUG-1/adjustments', body: { quantity: -1, reason: '' }, status: 400, field: 'reason' },
  // Lengths
  { name: '10 kB name', method: 'POST', path: '/products', body: product('L-1', { name: 'n'.repeat(10_000) }), status: 400, field: 'name' },
  { name: '10 kB description', method: 'POST', path: '/products', body: product('L-2', { description: 'd'.repeat(10_000) }), status: 400, field: 'description' },
  { name: '10 kB name on PATCH', method: 'PATCH', path: '/products/MUG-1', body: { name: 'n'.repeat(10_000) }, status: 400, field: 'name' },
  { name: 'empty name on PATCH', method: 'PATCH', path: '/products/MUG-1', body: { name: '' }, status: 400, field: 'name' },
  // Text the event log cannot store (jsonb refuses NUL and lone surrogates) is bad input, not a 500
  { name: 'NUL in name', method: 'POST', path: '/products', body: '{"sku":"Z-1","name":"a\\u0000b","price":{"amount":1,"currency":"EUR"}}', status: 400, field: 'name' },
  { name: 'lone surrogate in name', method: 'POST', path: '/products', body: '{"sku":"Z-2","name":"a\\ud800b","price":{"amount":1,"currency":"EUR"}}', status: 400, field: 'name' },
  { name: 'NUL in description on PATCH', method: 'PATCH', path: '/products/MUG-1', body: '{"description":"x\\u0000"}', status: 400, field: 'description' },
  { name: 'NUL in adjustment reason', method: 'POST', path: '/inventory/MUG-1/adjustments', body: '{"quantity":1,"reason":"r\\u0000"}', status: 400, field: 'reason' },
  // Keys class-transformer drops silently must still count as unknown fields
  { name: 'unknown "constructor" field', method: 'POST', path: '/products', body: '{"sku":"Z-3","name":"ok","price":{"amount":1,"currency":"EUR"},"constructor":1}', status: 400, field: 'constructor' },
  { name: 'unknown "__proto__" field', method: 'POST', path: '/products', body: '{"sku":"Z-4","name":"ok","price":{"amount":1,"currency":"EUR"},"__proto__":{"admin":true}}', status: 400, field: '__proto__' },
  // Invalid skus
  { name: 'sku in body with bad chars', method: 'POST', path: '/products', body: product('bad sku!'), status: 400, field: 'sku' },
  { name: 'sku in body too long', method: 'POST', path: '/products', body: product(longSku), status: 400, field: 'sku' },
  { name: 'too long sku in path (PATCH)', method: 'PATCH', path: `/products/${longSku}`, body: { name: 'x' }, status: 400, field: 'sku' },
  { name: 'bad chars in sku path (price)', method: 'PUT', path: '/products/bad$sku/price', body: { price: { amount: 1, currency: 'EUR' } }, status: 400, field: 'sku' },
  { name: 'encoded space in sku path (discontinue)', method: 'POST', path: '/products/bad%20sku/discontinue', status: 400, field: 'sku' },
  { name: 'sku path starting with a dot (receipts)', method: 'POST', path: '/inventory/.hidden/receipts', body: { quantity: 1 }, status: 400, field: 'sku' },
  { name: 'too long sku path (adjustments)', method: 'POST', path: `/inventory/${longSku}/adjustments`, body: { quantity: 1, reason: 'x' }, status: 400, field: 'sku' },
  // Unknown skus
  { name: 'PATCH unknown sku', method: 'PATCH', path: '/products/NOPE-1', body: { name: 'x' }, status: 404, reason: 'unknown-product' },
  { name: 'price of unknown sku', method: 'PUT', path: '/products/NOPE-1/price', body: { price: { amount: 1, currency: 'EUR' } }, status: 404, reason: 'unknown-product' },
  { name: 'discontinue unknown sku', method: 'POST', path: '/products/NOPE-1/discontinue', status: 404, reason: 'unknown-product' },
  { name: 'receipt for unknown sku', method: 'POST', path: '/inventory/NOPE-1/receipts', body: { quantity: 1 }, status: 404, reason: 'unknown-product' },
  { name: 'adjustment for unknown sku', method: 'POST', path: '/inventory/NOPE-1/adjustments', body: { quantity: 1, reason: 'x' }, status: 404, reason: 'unknown-product' },
  // Invariants
  { name: 'duplicate registration', method: 'POST', path: '/products', body: product('MUG-1'), status: 409, reason: 'product-exists' },
  { name: 'adjustment below zero', method: 'POST', path: '/inventory/MUG-1/adjustments', body: { quantity: -6, reason: 'lost' }, status: 409, reason: 'negative-stock' },
  { name: 'discontinue twice', method: 'POST', path: '/products/OLD-1/discontinue', status: 409, reason: 'product-discontinued' },
  { name: 'reprice a discontinued product', method: 'PUT', path: '/products/OLD-1/price', body: { price: { amount: 1, currency: 'EUR' } }, status: 409, reason: 'product-discontinued' },
  { name: 'price in another currency', method: 'PUT', path: '/products/MUG-1/price', body: { price: { amount: 1, currency: 'USD' } }, status: 409, reason: 'currency-mismatch' },
  // Preconditions
  { name: 'outdated If-Match', method: 'PATCH', path: '/products/MUG-1', body: { name: 'Stale' }, headers: { 'if-match': '"0"' }, status: 412 },
  { name: 'outdated If-Match on receipts', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 1 }, headers: { 'if-match': '"7"' }, status: 412 },
  { name: 'malformed If-Match', method: 'PATCH', path: '/products/MUG-1', body: { name: 'X' }, headers: { 'if-match': 'banana' }, status: 400, field: 'header If-Match' },
  { name: 'negative If-Match', method: 'PATCH', path: '/products/MUG-1', body: { name: 'X' }, headers: { 'if-match': '"-1"' }, status: 400, field: 'header If-Match' },
  { name: 'malformed Idempotency-Key', method: 'POST', path: '/inventory/MUG-1/receipts', body: { quantity: 1 }, headers: { 'idempotency-key': 'k'.repeat(201) }, status: 400, field: 'header Idempotency-Key' },
  // Routing
  { name: 'unknown route', method: 'GET', path: '/nowhere', status: 404 },
  { name: 'unknown command on a product', method: 'POST', path: '/products/MUG-1/explode', status: 404 },
  { name: 'a body on discontinue, which takes none', method: 'POST', path: '/products/MUG-1/discontinue', body: { a: 1 }, status: 400, field: 'a' },
  { name: 'wrong method on a known route', method: 'DELETE', path: '/products/MUG-1', status: 405 },
  { name: 'GET on a command route', method: 'GET', path: '/inventory/MUG-1/receipts', status: 405 },
];

describe('bad commands', () => {
  it.each(cases)('$name → $status, nothing appended', async ({ method, path, body, headers, status, field, reason }) => {
    const before = await eventCount();
    const res = await http(method, url(path), body, headers);
    expectProblem(res, status, field);
    if (reason !== undefined) expect(res.body.reason).toBe(reason);
    if (status === 412) expect(res.body.type).toBe('urn:converge:problem:precondition-failed');
    if (status === 405) expect(res.headers.get('allow')).toMatch(/^[A-Z, ]+$/);
    expect(await eventCount()).toBe(before);
  });

  it('a body of valid JSON that is not an object is refused as such, not as invalid JSON', async () => {
    for (const body of ['null', '"just a string"', '42']) {
      const res = await http('POST', url('/products'), body);
      expectProblem(res, 400);
      expect({ body, detail: res.body.detail }).toEqual({ body, detail: 'the body must be a JSON object' });
    }
    const listed = await http('POST', url('/products'), '[1, 2]');
    expectProblem(listed, 400, 'body');
    expect(listed.body.errors).toEqual([{ field: 'body', messages: ['the body must be a JSON object'] }]);
    const broken = await http('POST', url('/products'), '{"sku": ');
    expect(broken.body.detail).toMatch(/JSON/);
  });

  it('a value of the wrong type is told its type, not every range it also misses', async () => {
    const receipt = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: '5' });
    expectProblem(receipt, 400, 'quantity');
    expect(receipt.body.errors).toEqual([{ field: 'quantity', messages: ['quantity must be an integer number'] }]);
    const priced = await http('POST', url('/products'), product('TYPE-1', { price: { amount: '100', currency: 'EUR' } }));
    expectProblem(priced, 400, 'price.amount');
    expect(priced.body.errors).toEqual([{ field: 'price.amount', messages: ['amount must be an integer number'] }]);
    // A value of the right type is told the check it fails.
    const none = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 0 });
    expectProblem(none, 400, 'quantity');
    expect(none.body.errors).toEqual([{ field: 'quantity', messages: ['quantity must not be less than 1'] }]);
  });
});

describe('successful commands', () => {
  it('POST /products answers 201 with id, version 1, ETag and Consistency-Token', async () => {
    const before = await eventCount();
    const res = await http('POST', url('/products'), product('NEW-1'));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'NEW-1', version: 1, token: expect.any(String) });
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('consistency-token')).toBe(res.body.token);
    expect(await eventCount()).toBe(before + 1);
  });

  it('the other commands answer 200 with the incremented version', async () => {
    await http('POST', url('/products'), product('NEW-2'));
    const steps: Array<[string, string, unknown, number]> = [
      ['PATCH', '/products/NEW-2', { name: 'Renamed mug' }, 2],
      ['PUT', '/products/NEW-2/price', { price: { amount: 1499, currency: 'EUR' } }, 3],
      ['POST', '/inventory/NEW-2/receipts', { quantity: 4 }, 1],
      ['POST', '/inventory/NEW-2/adjustments', { quantity: -1, reason: 'damaged' }, 2],
      ['POST', '/products/NEW-2/discontinue', undefined, 4],
    ];
    for (const [method, path, body, version] of steps) {
      const res = await http(method, url(path), body);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 200, body: { id: 'NEW-2', version, token: expect.any(String) } });
      expect(res.headers.get('etag')).toBe(`"${version}"`);
      expect(res.headers.get('consistency-token')).toBe(res.body.token);
    }
  });

  it('a null description never reaches the event log as null', async () => {
    const res = await http('POST', url('/products'), product('NULL-1', { description: null }));
    expect([201, 400]).toContain(res.status);
    const { rows } = await system.writePool.query("SELECT data FROM events WHERE stream_id = 'product-NULL-1'");
    expect(rows).toHaveLength(res.status === 201 ? 1 : 0);
    for (const row of rows) expect(typeof row.data.description).toBe('string');
  });

  it('If-Match with the current version is accepted', async () => {
    const res = await http('PATCH', url('/products/NEW-1'), { description: 'Now 400 ml' }, { 'if-match': '"1"' });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(2);
  });
});

describe('Idempotency-Key', () => {
  it('the same key and body twice gets the same answer and appends once', async () => {
    const before = await eventCount();
    const headers = { 'idempotency-key': 'receipt-0001' };
    const first = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 2 }, headers);
    const second = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 2 }, headers);
    expect(first.status).toBe(200);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await eventCount()).toBe(before + 1);
  });

  it('concurrent retries with one key append once and all get the first answer', async () => {
    const before = await eventCount();
    const headers = { 'idempotency-key': 'receipt-race-0001' };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => http('POST', url('/inventory/MUG-1/receipts'), { quantity: 1 }, headers)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    for (const answer of answers) expect(answer.body).toEqual(answers[0].body);
    expect(await eventCount()).toBe(before + 1);
  });

  it('is kept per caller: another caller with the same key and body gets an answer of its own', async () => {
    const key = { 'idempotency-key': 'shared-0001' };
    const other = { ...key, authorization: await testToken('admin', 'other-staff') };
    const before = await eventCount();
    const first = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 1 }, key);
    const theirs = await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 1 }, other);
    expect([first.status, theirs.status]).toEqual([200, 200]);
    expect(theirs.body.version).toBe(first.body.version + 1);
    expect(await eventCount()).toBe(before + 2);
    // Each caller's retry gets its own first answer; a third caller's other body is not told the key was used.
    expect((await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 1 }, other)).body).toEqual(theirs.body);
    expect((await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 1 }, key)).body).toEqual(first.body);
    const third = { ...key, authorization: await testToken('admin', 'third-staff') };
    expect((await http('POST', url('/inventory/MUG-1/receipts'), { quantity: 3 }, third)).status).toBe(200);
    expect(await eventCount()).toBe(before + 3);
  });

  it('the same key with another body is a 422 and appends nothing', async () => {
    const headers = { 'idempotency-key': 'register-0001' };
    const first = await http('POST', url('/products'), product('IDEM-1'), headers);
    expect(first.status).toBe(201);
    const before = await eventCount();
    const other = await http('POST', url('/products'), product('IDEM-2'), headers);
    expectProblem(other, 422);
    expect(other.body.type).toBe('urn:converge:problem:idempotency-key-reused');
    expect(await eventCount()).toBe(before);
  });
});
