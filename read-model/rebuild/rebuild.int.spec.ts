import { startTestSystem, TestSystem, http } from '../../test/support/system';
import { appendCatalogHistory, assertBuilt, caughtUp, logHead, runConverge } from '../../test/support/rebuild';

const LARGE = process.env.CONVERGE_LARGE_TESTS === '1';

/** Pages through GET /products; throws on any answer but 200, so a failed query fails the test. */
async function listProducts(queryUrl: string): Promise<Record<string, any>[]> {
  const products: Record<string, any>[] = [];
  let cursor: string | null = null;
  do {
    const response = await http('GET', `${queryUrl}/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (response.status !== 200) throw new Error(`GET /products answered ${response.status}: ${JSON.stringify(response.body)}`);
    products.push(...response.body.data);
    cursor = response.body.page.nextCursor;
  } while (cursor);
  return products;
}

/**
 * The product catalog rebuilt from a log of `products` x `eventsPerProduct` events while
 * commands keep arriving over HTTP and the query API is polled without pause.
 */
async function rebuildUnderLoad(products: number, eventsPerProduct: number) {
  const system: TestSystem = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
  try {
    const history = await appendCatalogHistory(system.writePool, { products, eventsPerProduct });
    await caughtUp(system.store, 'product-catalog', history.lastKey, 120_000);
    const before = await listProducts(system.queryUrl);
    expect(before).toHaveLength(products);

    let running = true;
    const created: string[] = [];
    const problems: string[] = [];
    let polls = 0;
    let fewest = Infinity;
    const commands = (worker: number) =>
      (async () => {
        for (let i = 0; running; i++) {
          const sku = `NEW-${worker}-${i}`;
          const register = await http('POST', `${system.commandUrl}/products`, { sku, name: `New ${sku}`, price: { amount: 500, currency: 'EUR' } });
          if (register.status === 201) created.push(sku);
          else problems.push(`POST /products answered ${register.status}`);
          const existing = history.skus[(worker * 7919 + i) % history.skus.length];
          const reprice = await http('PUT', `${system.commandUrl}/products/${existing}/price`, { price: { amount: 2000 + i, currency: 'EUR' } });
          if (reprice.status !== 200) problems.push(`PUT price answered ${reprice.status}`);
        }
      })();
    const poller = (async () => {
      while (running) {
        try {
          const seen = await listProducts(system.queryUrl);
          polls += 1;
          fewest = Math.min(fewest, seen.length);
          const partial = seen.filter((p) => !p.name || !p.price || typeof p.available !== 'number');
          if (partial.length) problems.push(`partial products: ${JSON.stringify(partial.slice(0, 2))}`);
        } catch (error) {
          problems.push(String(error));
        }
      }
    })();
    const load = [commands(1), commands(2), commands(3)];

    const rebuild = await runConverge(['rebuild', 'product-catalog', '--json'], system.env);
    const pollsDuringRebuild = polls;
    running = false;
    await Promise.all([...load, poller]);

    expect(rebuild.stderr).toContain('replaying the log from the beginning');
    expect(rebuild.code).toBe(0);
    const result = JSON.parse(rebuild.stdout);
    expect(result.replayed).toBeGreaterThanOrEqual(history.events);
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    console.log(`rebuild of ${result.replayed} events: ${result.eventsPerSecond} events/s (${result.seconds.toFixed(2)} s, relay held ${result.frozenMs} ms)`);

    expect(problems).toEqual([]);
    expect(pollsDuringRebuild).toBeGreaterThan(2);
    expect(fewest).toBeGreaterThanOrEqual(products);
    expect(created.length).toBeGreaterThan(0);

    // Once the live projector has caught up, every product created meanwhile is there and the view equals a replay.
    await caughtUp(system.store, 'product-catalog', await logHead(system.writePool));
    const after = await listProducts(system.queryUrl);
    expect(after.map((p) => p.sku)).toEqual(expect.arrayContaining(created));
    const verify = await runConverge(['verify', 'product-catalog', '--json'], system.env);
    expect(JSON.parse(verify.stdout).differences).toEqual([]);
    expect(verify.code).toBe(0);

    const status = JSON.parse((await runConverge(['status', '--json'], system.env)).stdout);
    const catalog = status.projections.find((p: any) => p.name === 'product-catalog');
    expect(catalog.rebuild).toEqual({ running: null, shadowCheckpoint: null, shadowCollections: [] });
    expect(catalog.lag.events).toBe(0);
    expect(typeof catalog.consumer.numPending).toBe('number');
    expect(status.relay.checkpoint.position).toBe(status.relay.head.position);
    return result;
  } finally {
    await system.dispose();
  }
}

describe('converge rebuild', () => {
  beforeAll(assertBuilt);

  it('swaps in a rebuilt product catalog while commands arrive and queries never see a partial view', async () => {
    await rebuildUnderLoad(250, 40); // 10,000 events
  }, 180_000);

  (LARGE ? it : it.skip)('rebuilds 100,000 events under load (CONVERGE_LARGE_TESTS=1)', async () => {
    const result = await rebuildUnderLoad(2000, 50);
    expect(result.replayed).toBeGreaterThanOrEqual(100_000);
  }, 600_000);
});
