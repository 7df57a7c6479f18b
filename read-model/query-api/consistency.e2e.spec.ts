import { performance } from 'node:perf_hooks';
import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

/** Read-your-writes across the separate query API, with a slow projector and other writes in flight. */
describe('consistency tokens', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ env: { PROJECTION_BATCH_DELAY_MS: '300' } });
    await http('POST', `${system.commandUrl}/products`, { sku: 'RYW-1', name: 'v1', price: { amount: 700, currency: 'EUR' } });
    await http('POST', `${system.commandUrl}/inventory/RYW-1/receipts`, { quantity: 500 });
  });
  afterAll(() => system.dispose());

  it('answers a read with the token only once it includes the write: never a 404, never the previous version', async () => {
    let writing = true;
    const noise = (async () => {
      for (let i = 0; writing; i++) {
        await http('POST', `${system.commandUrl}/products`, { sku: `NOISE-${i}`, name: 'noise', price: { amount: 1, currency: 'EUR' } });
      }
    })();
    try {
      for (let round = 2; round <= 4; round++) {
        const placed = await http('POST', `${system.commandUrl}/orders`, {
          customerId: 'ryw',
          lines: [{ sku: 'RYW-1', quantity: 1 }],
          paymentToken: 'tok_approve',
        });
        expect(placed.status).toBe(201);
        const read = await http('GET', `${system.queryUrl}/orders/${placed.body.id}`, undefined, { 'Consistency-Token': placed.body.token });
        expect(read.status).toBe(200);
        expect(read.body.data.id).toBe(placed.body.id);
        expect(read.body.view.stale).toBe(false);
        expect(read.headers.get('view-stale')).toBe('false');

        const renamed = await http('PATCH', `${system.commandUrl}/products/RYW-1`, { name: `v${round}` });
        const product = await http('GET', `${system.queryUrl}/products/RYW-1?after=${renamed.body.token}`);
        expect(product.body.data.name).toBe(`v${round}`);
        expect(product.headers.get('etag')).toBe(renamed.headers.get('etag'));

        const list = await http('GET', `${system.queryUrl}/products?q=v${round}`, undefined, { 'Consistency-Token': renamed.body.token });
        expect(list.body.data.map((p: { sku: string }) => p.sku)).toEqual(['RYW-1']);
      }
    } finally {
      writing = false;
      await noise;
    }
  });

  it('answers within the wait bound, marked stale and by how much, while the projector is stopped', async () => {
    await system.stop('projector');
    try {
      const renamed = await http('PATCH', `${system.commandUrl}/products/RYW-1`, { name: 'while stopped' });
      const started = performance.now();
      const read = await http('GET', `${system.queryUrl}/products/RYW-1`, undefined, {
        'Consistency-Token': renamed.body.token,
        Prefer: 'wait=1',
      });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(3500);
      expect(read.status).toBe(200);
      expect(read.body.data.name).not.toBe('while stopped');
      expect(read.body.view.stale).toBe(true);
      expect(read.body.view.staleByMs).toBeGreaterThanOrEqual(400);
      expect(read.headers.get('view-stale')).toBe('true');
      expect(read.headers.get('preference-applied')).toBe('wait=1');
    } finally {
      await system.start('projector');
    }
    await eventually(async () => (await http('GET', `${system.queryUrl}/products/RYW-1`)).body?.data?.name === 'while stopped');
  }, 30_000);

  it('refuses unknown query parameters on /projections and /health too', async () => {
    for (const path of ['/projections?x=1', '/health/live?x=1', '/health/ready?verbose=1']) {
      const res = await http('GET', `${system.queryUrl}${path}`);
      expect(res.status).toBe(400);
      expect(res.contentType).toMatch(/problem\+json/);
    }
  });

  it('refuses a malformed token with 400', async () => {
    const read = await http('GET', `${system.queryUrl}/products/RYW-1?after=garbage`);
    expect(read.status).toBe(400);
    expect(read.contentType).toMatch(/problem\+json/);
  });

  it('gives 304 for If-None-Match with the current ETag, and 412 for an outdated If-Match (appending nothing)', async () => {
    const renamed = await http('PATCH', `${system.commandUrl}/products/RYW-1`, { name: 'etag test' });
    const first = await http('GET', `${system.queryUrl}/products/RYW-1`, undefined, { 'Consistency-Token': renamed.body.token });
    const etag = first.headers.get('etag')!;
    expect((await http('GET', `${system.queryUrl}/products/RYW-1`, undefined, { 'If-None-Match': etag })).status).toBe(304);
    expect((await http('GET', `${system.queryUrl}/products/RYW-1`, undefined, { 'If-None-Match': '"1"' })).status).toBe(200);

    const count = async () => (await system.writePool.query('SELECT count(*)::int AS n FROM events')).rows[0].n;
    const before = await count();
    // A price change is strict: any change since the If-Match version refuses it (a details edit would merge by field).
    const price = { price: { amount: 1, currency: 'EUR' } };
    const stale = await http('PUT', `${system.commandUrl}/products/RYW-1/price`, price, { 'If-Match': '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual(expect.objectContaining({ currentVersion: Number(etag.replace(/"/g, '')) }));
    expect(await count()).toBe(before);
  });
});
