import { Pool } from 'pg';
import { orderKey, parseOrderKey } from '../../src/contracts';
import { startTestSystem, TestSystem } from '../../test/support/system';
import { appendCatalogHistory, assertBuilt, caughtUp, runConverge } from '../../test/support/rebuild';

describe('converge verify', () => {
  let system: TestSystem;
  let readPool: Pool;
  let skus: string[];

  beforeAll(async () => {
    assertBuilt();
    system = await startTestSystem({ pieces: ['relay', 'projector'] });
    readPool = new Pool({ connectionString: system.config.readStoreUrl, max: 1 });
    const history = await appendCatalogHistory(system.writePool, { products: 100, eventsPerProduct: 30 });
    skus = history.skus;
    await caughtUp(system.store, 'product-catalog', history.lastKey);
  });
  afterAll(async () => {
    await readPool.end();
    await system.dispose();
  });

  it('reports exactly the document altered by hand, and a rebuild repairs it', async () => {
    const clean = await runConverge(['verify', 'product-catalog'], system.env);
    expect(clean.stdout).toContain('100 documents equal a replay of the log');
    expect(clean.code).toBe(0);

    // Changed behind the projection's back: same applied key, different body.
    const [altered, alsoAltered] = [skus[17], skus[42]];
    const original = (await system.store.get('products', altered))!;
    await readPool.query(`UPDATE view_products SET doc = jsonb_set(doc, '{name}', '"Tampered"') WHERE id = $1`, [altered]);

    const dirty = await runConverge(['verify', 'product-catalog', '--json'], system.env);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toContain('differ from a replay of the event log');
    const report = JSON.parse(dirty.stdout);
    expect(report.documents).toBe(100);
    expect(report.differences).toEqual([
      { collection: 'products', id: altered, expected: original.doc, actual: { ...original.doc, name: 'Tampered' } },
    ]);

    // Written through the store with an order key past every event: the live projector could never fix it.
    const stored = (await system.store.get('products', alsoAltered))!;
    const checkpoint = (await system.store.checkpoint('product-catalog'))!;
    const beyond = orderKey(BigInt(parseOrderKey(stored.applied).txId) + 1_000_000n, 1);
    await system.store.commit({
      projection: 'product-catalog',
      changes: [{ collection: 'products', id: alsoAltered, doc: { ...stored.doc, available: -1 }, applied: beyond }],
      checkpoint: { orderKey: checkpoint.orderKey, position: checkpoint.position, eventRecordedAt: checkpoint.eventRecordedAt, pending: 0 },
    });
    const text = await runConverge(['verify', 'product-catalog'], system.env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('2 of 100 documents differ');
    expect(text.stdout).toContain(`products/${altered}`);
    expect(text.stdout).toContain(`products/${alsoAltered}`);

    const rebuild = await runConverge(['rebuild', 'product-catalog'], system.env);
    expect(rebuild.code).toBe(0);
    expect(rebuild.stdout).toMatch(/rebuilt [\d,]+ events in [\d.]+ s \([\d,]+ events\/s\)/);

    const repaired = await runConverge(['verify', 'product-catalog', '--json'], system.env);
    expect(JSON.parse(repaired.stdout).differences).toEqual([]);
    expect(repaired.code).toBe(0);
    expect((await system.store.get('products', altered))!.doc).toEqual(original.doc);
    expect((await system.store.get('products', alsoAltered))!.doc).toEqual(stored.doc);
  });

  it('refuses an unknown projection, naming the valid ones', async () => {
    const run = await runConverge(['verify', 'product-catalogue'], system.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown projection "product-catalogue"');
    expect(run.stderr).toContain('product-catalog, inventory-levels, order-summary, customer-orders, daily-sales');
  });

  it('estimates a rebuild without writing anything (--dry-run)', async () => {
    const before = await system.store.listCollections();
    const run = await runConverge(['rebuild', 'product-catalog', '--dry-run', '--json'], system.env);
    expect(run.code).toBe(0);
    const estimate = JSON.parse(run.stdout);
    expect(estimate).toEqual(expect.objectContaining({ projection: 'product-catalog', resumeFrom: null, events: 3000, runningRebuild: null }));
    expect(estimate.estimatedSeconds).toBeGreaterThan(0);
    expect(await system.store.listCollections()).toEqual(before);
    expect(await system.store.checkpoint('product-catalog@rebuild')).toBeUndefined();
  });
});
