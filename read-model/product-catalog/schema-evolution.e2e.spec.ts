import { eventually, http, startTestSystem, TestSystem } from '../../test/support/system';

/**
 * ProductRegistered v1 stored the price as a number of EUR cents; v2 stores { amount, currency }.
 * Both are in this log; the upcaster makes the projection (and the aggregate) see only v2.
 */
describe('schema evolution: ProductRegistered v1 and v2 in one log', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
  });
  afterAll(() => system.dispose());

  it('projects a v1 event in the current shape and lets the aggregate decide on it', async () => {
    await system.writePool.query(
      `WITH s AS (INSERT INTO streams (stream_id, stream_type, version) VALUES ('product-LEGACY-1', 'product', 1))
       INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata)
       VALUES (gen_random_uuid(), 'product-LEGACY-1', 'product', 1, 'ProductRegistered', 1,
               '{"sku":"LEGACY-1","name":"Legacy lamp","description":"from 2019","price":1999}', '{"correlationId":"legacy"}')`,
    );
    expect((await http('POST', `${system.commandUrl}/products`, { sku: 'NEW-1', name: 'New lamp', price: { amount: 2999, currency: 'EUR' } })).status).toBe(201);

    const legacy = await eventually(async () => (await http('GET', `${system.queryUrl}/products/LEGACY-1`)).body?.data);
    expect(legacy.price).toEqual({ amount: 1999, currency: 'EUR' });
    const fresh = await eventually(async () => (await http('GET', `${system.queryUrl}/products/NEW-1`)).body?.data);
    expect(fresh.price).toEqual({ amount: 2999, currency: 'EUR' });

    // The aggregate folds the v1 event as v2 too: a price change keeps the upcast previous price.
    const changed = await http('PUT', `${system.commandUrl}/products/LEGACY-1/price`, { price: { amount: 1799, currency: 'EUR' } });
    expect(changed.status).toBe(200);
    const { rows } = await system.writePool.query(
      `SELECT schema_version, data FROM events WHERE stream_id = 'product-LEGACY-1' ORDER BY stream_version`,
    );
    expect(rows.map((r) => r.schema_version)).toEqual([1, 1]);
    expect(rows[1].data.previousPrice).toEqual({ amount: 1999, currency: 'EUR' });
    const sorted = await http('GET', `${system.queryUrl}/products?sort=price&after=${changed.body.token}`);
    expect(sorted.body.data.map((p: { sku: string }) => p.sku)).toEqual(['LEGACY-1', 'NEW-1']);
  });
});
