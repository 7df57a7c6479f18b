import { eventually, http, startTestSystem, TestSystem } from '../test/support/system';

/**
 * The whole flow (command API → relay → projector → query API) with READ_STORE_URL pointing
 * at the MongoDB wire-protocol double, so the MongoDB adapter runs through the official driver.
 */
describe('end to end on the MongoDB read store (wire-protocol double)', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ readStore: 'mongo-double' });
  });
  afterAll(() => system.dispose());

  it('projects commands into MongoDB views and serves them filtered, sorted and paged', async () => {
    expect(system.env.READ_STORE_URL).toMatch(/^mongodb:\/\//);
    const products = [
      { sku: 'M-1', name: 'Anchor', amount: 300, stock: 4 },
      { sku: 'M-2', name: 'bucket', amount: 100, stock: 0 },
      { sku: 'M-3', name: 'Compass', amount: 200, stock: 9 },
    ];
    for (const p of products) {
      const created = await http('POST', `${system.commandUrl}/products`, { sku: p.sku, name: p.name, price: { amount: p.amount, currency: 'EUR' } });
      expect(created.status).toBe(201);
      if (p.stock) expect((await http('POST', `${system.commandUrl}/inventory/${p.sku}/receipts`, { quantity: p.stock })).status).toBe(200);
    }
    await http('POST', `${system.commandUrl}/products/M-2/discontinue`);

    await eventually(async () => {
      const { body } = await http('GET', `${system.queryUrl}/products/M-2`);
      return body?.data?.status === 'discontinued';
    });
    await eventually(async () => (await http('GET', `${system.queryUrl}/inventory/M-3`)).body?.data?.onHand === 9);

    const byPrice = await http('GET', `${system.queryUrl}/products?sort=-price`);
    expect(byPrice.body.data.map((p: { sku: string }) => p.sku)).toEqual(['M-1', 'M-3', 'M-2']);
    const byName = await http('GET', `${system.queryUrl}/products?sort=name`);
    expect(byName.body.data.map((p: { name: string }) => p.name)).toEqual(['Anchor', 'bucket', 'Compass']);
    const active = await http('GET', `${system.queryUrl}/products?status=active&inStock=true&q=ANCH`);
    expect(active.body.data.map((p: { sku: string }) => p.sku)).toEqual(['M-1']);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof http>> = await http(
        'GET',
        `${system.queryUrl}/products?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.data.map((p: { sku: string }) => p.sku));
      cursor = page.body.page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['M-1', 'M-2', 'M-3']);

    const low = await http('GET', `${system.queryUrl}/inventory?lowStock=true`);
    expect(low.body.data.map((i: { sku: string }) => i.sku)).toEqual(['M-1', 'M-2']);
    expect(low.body.view.position).toBeGreaterThan(0);
  });
});
