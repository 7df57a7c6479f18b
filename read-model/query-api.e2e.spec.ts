import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

/** The query API over HTTP, against views the running projector built from real commands. */
let system: TestSystem;
const q = (path: string) => `${system.queryUrl}${path}`;
type Response = Awaited<ReturnType<typeof http>>;

// Sorted by name (case-insensitive) and by price they come out in different orders.
const PRODUCTS = [
  { sku: 'MUG-1', name: 'Enamel Mug', amount: 1299, stock: 10 },
  { sku: 'CUP-2', name: 'paper cup', amount: 199, stock: 3 },
  { sku: 'PLATE-3', name: 'Dinner Plate', amount: 2500, stock: 0 },
  { sku: 'BOWL-4', name: 'Mixing Bowl', amount: 899, stock: 0 },
];
const BY_NAME = ['PLATE-3', 'MUG-1', 'BOWL-4', 'CUP-2'];
const BY_PRICE = ['CUP-2', 'BOWL-4', 'MUG-1', 'PLATE-3'];

function expectProblem(res: Response, status: number, field?: string): void {
  expect(res.status).toBe(status);
  expect(res.contentType.startsWith('application/problem+json')).toBe(true);
  expect(res.body).toEqual(expect.objectContaining({ status, title: expect.any(String) }));
  expect(res.body.type).toMatch(/^urn:converge:problem:[a-z0-9-]+$/);
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|\bat (?:\/|file:|node:)|\\n\s+at /);
  expect(text).not.toMatch(/\.(?:ts|js):\d+|node_modules|\/work\/|\/home\/|[A-Z]:\\\\/);
  expect(res.body.stack).toBeUndefined();
  if (field !== undefined) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

/** Every list and item answer says which position the view reflects, in the body and a header. */
function expectViewPosition(res: Response): void {
  expect(res.status).toBe(200);
  expect(res.body.view.position).toBeGreaterThan(0);
  expect(res.headers.get('view-position')).toBe(String(res.body.view.position));
}

const skus = (res: Response): string[] => res.body.data.map((p: { sku: string }) => p.sku);

/** Follows nextCursor from the first page to the last. */
async function walk(query: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res = await http('GET', q(`/products?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
    expectViewPosition(res);
    seen.push(...skus(res));
    cursor = res.body.page.nextCursor;
    if (!cursor) return seen;
  }
  throw new Error('pagination never ended');
}

beforeAll(async () => {
  system = await startTestSystem();
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await http(method, `${system.commandUrl}${path}`, body);
    expect(res.status).toBeLessThan(300);
  };
  for (const p of PRODUCTS) {
    await send('POST', '/products', { sku: p.sku, name: p.name, price: { amount: p.amount, currency: 'EUR' } });
    if (p.stock) await send('POST', `/inventory/${p.sku}/receipts`, { quantity: p.stock });
  }
  await send('POST', '/products/BOWL-4/discontinue');
  await send('PATCH', '/products/MUG-1', { description: 'Holds 350 ml' });
  const { rows } = await system.writePool.query<{ last: string }>('SELECT max(position)::text AS last FROM events');
  const last = Number(rows[0].last);
  await eventually(async () => {
    const res = await http('GET', q('/projections'));
    return res.body.data.every((p: { position: number }) => p.position >= last);
  }, 20_000, 'both projections to catch up');
});

afterAll(async () => {
  await system?.dispose();
});

describe('GET /products', () => {
  it('lists every product sorted by name by default, with view position and page info', async () => {
    const res = await http('GET', q('/products'));
    expectViewPosition(res);
    expect(skus(res)).toEqual(BY_NAME);
    expect(res.body.page).toEqual({ limit: 20, nextCursor: null });
    expect(res.body.data[0]).not.toHaveProperty('sortName');
  });

  it.each([
    ['status=active', ['PLATE-3', 'MUG-1', 'CUP-2']],
    ['status=discontinued', ['BOWL-4']],
    ['q=MUG', ['MUG-1']],
    ['q=Cup', ['CUP-2']],
    ['q=%25', []],
    ['minPrice=899', ['PLATE-3', 'MUG-1', 'BOWL-4']],
    ['maxPrice=1299', ['MUG-1', 'BOWL-4', 'CUP-2']],
    ['minPrice=899&maxPrice=1299', ['MUG-1', 'BOWL-4']],
    ['minPrice=199&maxPrice=199', ['CUP-2']],
    ['inStock=true', ['MUG-1', 'CUP-2']],
    ['inStock=false', ['PLATE-3', 'BOWL-4']],
    ['status=active&inStock=false', ['PLATE-3']],
    ['sort=name', BY_NAME],
    ['sort=-name', [...BY_NAME].reverse()],
    ['sort=price', BY_PRICE],
    ['sort=-price', [...BY_PRICE].reverse()],
  ])('%s', async (query, expected) => {
    const res = await http('GET', q(`/products?${query}`));
    expectViewPosition(res);
    expect(skus(res)).toEqual(expected);
  });

  it.each(['sort=name&limit=1', 'sort=name&limit=2', 'sort=-price&limit=1', 'sort=price&limit=2', 'sort=-name&limit=3'])(
    'cursor pagination with %s walks every product exactly once, in order',
    async (query) => {
      const sort = new URLSearchParams(query).get('sort')!;
      const expected = sort.endsWith('name') ? BY_NAME : BY_PRICE;
      expect(await walk(query)).toEqual(sort.startsWith('-') ? [...expected].reverse() : expected);
    },
  );

  it('paginates a filtered list within the filter', async () => {
    expect(await walk('status=active&sort=price&limit=1')).toEqual(['CUP-2', 'MUG-1', 'PLATE-3']);
  });
});

describe('GET /products/{sku}', () => {
  it('answers the product with its version as ETag', async () => {
    const res = await http('GET', q('/products/MUG-1'));
    expectViewPosition(res);
    expect(res.body.data).toEqual(
      expect.objectContaining({ sku: 'MUG-1', name: 'Enamel Mug', description: 'Holds 350 ml', status: 'active', available: 10, version: 2 }),
    );
    expect(res.body.data.price).toEqual({ amount: 1299, currency: 'EUR' });
    expect(res.headers.get('etag')).toBe('"2"');
  });

  it('answers a discontinued product with its own version', async () => {
    const res = await http('GET', q('/products/BOWL-4'));
    expect(res.body.data.status).toBe('discontinued');
    expect(res.headers.get('etag')).toBe('"2"');
  });
});

describe('GET /inventory', () => {
  it('answers the levels of one sku with the stock version as ETag', async () => {
    const res = await http('GET', q('/inventory/CUP-2'));
    expectViewPosition(res);
    expect(res.body.data).toEqual(
      expect.objectContaining({ sku: 'CUP-2', onHand: 3, reserved: 0, available: 3, lowStock: true, movements: 1, version: 1 }),
    );
    expect(res.headers.get('etag')).toBe('"1"');
  });

  it('lists low stock (at or below the threshold) and the rest', async () => {
    const low = await http('GET', q('/inventory?lowStock=true'));
    expectViewPosition(low);
    expect(skus(low)).toEqual(['BOWL-4', 'CUP-2', 'PLATE-3']);
    const enough = await http('GET', q('/inventory?lowStock=false'));
    expect(skus(enough)).toEqual(['MUG-1']);
  });

  it('pages through every sku with limit=1', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await http('GET', q(`/inventory?limit=1${cursor ? `&cursor=${cursor}` : ''}`));
      expectViewPosition(res);
      seen.push(...skus(res));
      cursor = res.body.page.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual(['BOWL-4', 'CUP-2', 'MUG-1', 'PLATE-3']);
  });
});

describe('GET /projections', () => {
  it('lists product-catalog and inventory-levels with their positions', async () => {
    const res = await http('GET', q('/projections'));
    expect(res.status).toBe(200);
    const names = res.body.data.map((p: { projection: string }) => p.projection);
    expect(names).toEqual(expect.arrayContaining(['product-catalog', 'inventory-levels']));
    for (const p of res.body.data) expect(p.position).toBeGreaterThan(0);
  });
});

describe('bad queries', () => {
  const garbled = Buffer.from('not json at all').toString('base64url');
  const forged = Buffer.from(JSON.stringify(['name', { $gt: '' }, 'x'])).toString('base64url');
  const forgedId = Buffer.from(JSON.stringify(['name', 'a', { $ne: null }])).toString('base64url');

  it.each([
    ['unknown parameter', '/products?color=red', 400, 'color'],
    ['operator injection on price', '/products?price[$gt]=1', 400, undefined],
    ['operator injection on status', '/products?status[$ne]=x', 400, undefined],
    ['negative minPrice', '/products?minPrice=-1', 400, 'minPrice'],
    ['non-numeric minPrice', '/products?minPrice=abc', 400, 'minPrice'],
    ['fractional maxPrice', '/products?maxPrice=1.5', 400, 'maxPrice'],
    ['limit=0', '/products?limit=0', 400, 'limit'],
    ['limit=101', '/products?limit=101', 400, 'limit'],
    ['unknown sort', '/products?sort=evil', 400, 'sort'],
    ['sort on an internal field', '/products?sort=sortName', 400, 'sort'],
    ['unknown status', '/products?status=weird', 400, 'status'],
    ['repeated status', '/products?status=active&status=discontinued', 400, 'status'],
    ['bad inStock', '/products?inStock=yes', 400, 'inStock'],
    ['NUL in q', '/products?q=a%00b', 400, 'q'],
    ['unknown __proto__ parameter', '/products?__proto__=1', 400, '__proto__'],
    ['too long q', `/products?q=${'x'.repeat(101)}`, 400, 'q'],
    ['garbled cursor', '/products?cursor=%%%garbage', 400, undefined],
    ['base64 cursor that is not JSON', `/products?cursor=${garbled}`, 400, 'cursor'],
    ['cursor with an operator as value', `/products?cursor=${forged}`, 400, 'cursor'],
    ['cursor with an operator as id', `/products?cursor=${forgedId}`, 400, 'cursor'],
    ['minPrice above maxPrice', '/products?minPrice=2000&maxPrice=1000', 400, 'minPrice'],
    ['invalid sku path', '/products/bad$sku', 400, 'sku'],
    ['too long sku path', `/products/${'A'.repeat(65)}`, 400, 'sku'],
    ['unknown sku', '/products/NOPE-9', 404, undefined],
    ['unknown inventory parameter', '/inventory?sku[$ne]=x', 400, undefined],
    ['bad lowStock', '/inventory?lowStock=maybe', 400, 'lowStock'],
    ['garbled inventory cursor', `/inventory?cursor=${garbled}`, 400, 'cursor'],
    ['invalid inventory sku path', '/inventory/bad$sku', 400, 'sku'],
    ['unknown inventory sku', '/inventory/NOPE-9', 404, undefined],
    ['unknown route', '/nowhere', 404, undefined],
  ])('%s (%s) → %i', async (_, path, status, field) => {
    expectProblem(await http('GET', q(path)), status, field);
  });

  it('rejects a cursor made for another sort', async () => {
    const first = await http('GET', q('/products?sort=name&limit=1'));
    const cursor = first.body.page.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    expectProblem(await http('GET', q(`/products?sort=price&limit=1&cursor=${cursor}`)), 400, 'cursor');
    expectProblem(await http('GET', q(`/products?sort=-name&limit=1&cursor=${cursor}`)), 400, 'cursor');
  });
});
