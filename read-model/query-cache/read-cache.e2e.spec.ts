import Redis from 'ioredis';
import { performance } from 'node:perf_hooks';
import { decodeToken } from '../../src/contracts';
import { createPool } from '../../src/postgres';
import { REDIS_URL, startRedisServer, PrivateRedisServer } from '../../test/support/redis-server';
import { runConverge } from '../../test/support/rebuild';
import { eventually, http, projectionsCaughtUp, startTestSystem, TestSystem } from '../../test/support/system';

/** The read cache in the running system: what clients see through it, and what it never lets them see. */

const price = (amount: number) => ({ price: { amount, currency: 'EUR' } });

async function register(system: TestSystem, skus: string[]): Promise<void> {
  for (const sku of skus) {
    const res = await http('POST', `${system.commandUrl}/products`, { sku, name: `Product ${sku}`, ...price(1000) });
    expect(res.status).toBe(201);
  }
  await projectionsCaughtUp(system, ['product-catalog']);
}

/** A counter's value from GET /metrics (summed over the matching label sets). */
async function metric(system: TestSystem, name: string, labels = ''): Promise<number> {
  const text = (await http('GET', `${system.queryUrl}/metrics`)).body as string;
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

const cacheReady = async (system: TestSystem) => (await http('GET', `${system.queryUrl}/health/ready`)).body?.details?.cache?.status;

describe('read cache in the running system', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'] });
    await register(system, ['CACHE-1', 'CACHE-2', 'DRIFT-1', ...Array.from({ length: 5 }, (_, i) => `RACE-${i}`)]);
    await eventually(async () => (await cacheReady(system)) === 'up', 15_000, 'the cache in use');
  });
  afterAll(() => system.dispose());

  it('answers a cached GET with the same body, headers, ETag and 304 as the uncached one', async () => {
    const hitsBefore = await metric(system, 'converge_query_cache_hits_total', 'tier="local"');
    // An escaped id is left to the Nest route (the fast path takes ids only as stored): the same read, through Nest.
    const first = await http('GET', `${system.queryUrl}/products/CACHE%2D1`);
    const second = await http('GET', `${system.queryUrl}/products/CACHE-1`);
    expect(await metric(system, 'converge_query_cache_hits_total', 'tier="local"')).toBeGreaterThan(hitsBefore);
    expect(second.status).toBe(200);
    expect(second.body.data).toEqual(first.body.data);
    expect(Object.keys(second.body)).toEqual(Object.keys(first.body));
    expect(Object.keys(second.body.view).sort()).toEqual(Object.keys(first.body.view).sort());
    const names = (res: typeof first) => [...res.headers.keys()].filter((h) => h !== 'date').sort();
    expect(names(second)).toEqual(names(first));
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('view-position')).toBe(String(second.body.view.position));
    expect(second.body.view.position).toBeGreaterThanOrEqual(first.body.view.position);

    const etag = first.headers.get('etag')!;
    const notModified = await http('GET', `${system.queryUrl}/products/CACHE-1`, undefined, { 'If-None-Match': etag });
    const notModifiedByNest = await http('GET', `${system.queryUrl}/products/CACHE%2D1`, undefined, { 'If-None-Match': etag });
    expect(notModified.status).toBe(304);
    expect(notModifiedByNest.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(names(notModified)).toEqual(names(notModifiedByNest));
    expect((await http('GET', `${system.queryUrl}/products/CACHE-1`, undefined, { 'If-None-Match': '"999"' })).status).toBe(200);
    // Validation and problem+json stay the Nest routes' (the fast path never answers these).
    const bad = await http('GET', `${system.queryUrl}/products/CACHE-1?x=1`);
    expect(bad.status).toBe(400);
    expect(bad.contentType).toMatch(/problem\+json/);
  });

  it('serves the first page of the product list from the cache and drops it with any product change', async () => {
    const before = await http('GET', `${system.queryUrl}/products`);
    const changed = await http('PUT', `${system.commandUrl}/products/CACHE-2/price`, price(4321));
    const after = await http('GET', `${system.queryUrl}/products`, undefined, { 'Consistency-Token': changed.body.token });
    const find = (res: typeof before) => res.body.data.find((p: { sku: string }) => p.sku === 'CACHE-2');
    expect(find(before).price.amount).toBe(1000);
    expect(find(after).price.amount).toBe(4321);
    expect(after.body.view.stale).toBe(false);
  });

  it('under 1,000 price changes, no reader sees a price older than what GET /projections has reported, and every token read sees its write', async () => {
    const skus = Array.from({ length: 5 }, (_, i) => `RACE-${i}`);
    // Each sku's price only rises, so "older" is "lower".
    const writes: { sku: string; amount: number; position: number }[] = [];
    const reports: { at: number; position: number }[] = [];
    const reads: { startedAt: number; sku: string; amount: number }[] = [];
    const tokenMisses: string[] = [];
    let writing = true;

    const monitor = (async () => {
      while (writing) {
        const res = await http('GET', `${system.queryUrl}/projections`);
        const position = res.body.data.find((p: { projection: string }) => p.projection === 'product-catalog').position;
        reports.push({ at: performance.now(), position });
      }
    })();
    const readers = Array.from({ length: 6 }, async (_, r) => {
      for (let i = r; writing; i++) {
        const sku = skus[i % skus.length];
        const startedAt = performance.now();
        const res = await http('GET', `${system.queryUrl}/products/${sku}`);
        expect(res.status).toBe(200);
        reads.push({ startedAt, sku, amount: res.body.data.price.amount });
      }
    });
    // One writer: each write commits after the one before, so positions follow the relay's order.
    for (let i = 1; i <= 1_000; i++) {
      const sku = skus[i % skus.length];
      const amount = 1000 + i;
      const res = await http('PUT', `${system.commandUrl}/products/${sku}/price`, price(amount));
      expect(res.status).toBe(200);
      writes.push({ sku, amount, position: decodeToken(res.body.token)!.position });
      if (i % 20 === 0) {
        const read = await http('GET', `${system.queryUrl}/products/${sku}`, undefined, { 'Consistency-Token': res.body.token, Prefer: 'wait=10' });
        if (read.body.view.stale || read.body.data.price.amount < amount) tokenMisses.push(`${sku} wrote ${amount}, read ${read.body.data.price.amount}`);
      }
    }
    await projectionsCaughtUp(system, ['product-catalog']);
    writing = false;
    await Promise.all([monitor, ...readers]);

    expect(tokenMisses).toEqual([]);
    const violations: string[] = [];
    for (const read of reads) {
      // The newest write to this sku that a /projections answer received before the read began had covered.
      const reported = Math.max(0, ...reports.filter((r) => r.at < read.startedAt).map((r) => r.position));
      const owed = writes.filter((w) => w.sku === read.sku && w.position <= reported).reduce((m, w) => Math.max(m, w.amount), 0);
      if (read.amount < owed) violations.push(`${read.sku}: read ${read.amount} after /projections reported ${reported} (price ${owed} by then)`);
    }
    expect(violations.slice(0, 5)).toEqual([]);
    expect(reads.length).toBeGreaterThan(500);
    expect(await metric(system, 'converge_query_cache_hits_total')).toBeGreaterThan(0);
  }, 180_000);

  it('after a rebuild swaps the view in, no entry of the old view is served', async () => {
    // The live document drifted from the log (as a bug in an old projection would leave it) and got cached so.
    const read = createPool(system.env.READ_STORE_URL, { max: 1 });
    try {
      await read.query(`UPDATE view_products SET doc = jsonb_set(doc, '{name}', '"drifted"') WHERE id = 'DRIFT-1'`);
    } finally {
      await read.end();
    }
    expect((await http('GET', `${system.queryUrl}/products/DRIFT-1`)).body.data.name).toBe('drifted');
    expect((await http('GET', `${system.queryUrl}/products/DRIFT-1`)).body.data.name).toBe('drifted'); // now from the cache
    const raw = new Redis(REDIS_URL);
    try {
      const epochKey = `${system.env.CACHE_KEY_PREFIX}{products}`;
      const epochBefore = await raw.get(epochKey);
      const rebuilt = await runConverge(['rebuild', 'product-catalog'], system.env);
      expect(rebuilt.code).toBe(0);
      expect(rebuilt.stderr).not.toMatch(/NATS unreachable/);
      // The swap's notice gave Redis a new epoch: every entry written before it is void there.
      await eventually(async () => (await raw.get(epochKey)) !== epochBefore, 5_000, 'a new epoch in Redis');
      for (let i = 0; i < 20; i++) expect((await http('GET', `${system.queryUrl}/products/DRIFT-1`)).body.data.name).toBe('Product DRIFT-1');
    } finally {
      raw.disconnect();
    }
  }, 120_000);
});

describe('read cache with Redis killed under load', () => {
  let system: TestSystem;
  let redis: PrivateRedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    // A small local tier, so that most reads go through Redis.
    system = await startTestSystem({ pieces: ['command-api', 'relay', 'projector', 'query-api'], env: { REDIS_URL: redis.url, CACHE_LOCAL_MAX: '5' } });
    await register(system, Array.from({ length: 30 }, (_, i) => `LOAD-${i}`));
    await eventually(async () => (await cacheReady(system)) === 'up', 15_000, 'the cache in use');
  });
  afterAll(async () => {
    await system?.dispose();
    await redis?.dispose();
  });

  it('answers every read through the outage, reports the cache degraded, and caches again once Redis is back', async () => {
    let loading = true;
    const failures: string[] = [];
    let answered = 0;
    const load = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = worker; loading; i++) {
        const res = await http('GET', `${system.queryUrl}/products/LOAD-${i % 30}`).catch((error: Error) => ({ status: 0, body: error.message }));
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        answered++;
      }
    });
    try {
      await eventually(async () => (await metric(system, 'converge_query_cache_hits_total', 'tier="redis"')) > 0, 15_000, 'Redis hits');
      await redis.kill();
      const ready = await eventually(async () => {
        const res = await http('GET', `${system.queryUrl}/health/ready`);
        return res.status === 200 && res.body.details.cache?.status === 'degraded' && res.body;
      }, 10_000, 'readiness to say degraded');
      expect(ready.details.cache.redis).toMatch(/^degraded/);
      const during = answered;
      await eventually(async () => answered > during + 200, 20_000, 'reads answered while Redis is down');

      await redis.restart();
      await eventually(async () => (await cacheReady(system)) === 'up', 15_000, 'the cache in use again');
      const raw = new Redis(redis.url);
      try {
        await eventually(async () => (await raw.keys(`${system.env.CACHE_KEY_PREFIX}*`)).length > 5, 15_000, 'entries in the restarted Redis');
      } finally {
        raw.disconnect();
      }
      const hits = await metric(system, 'converge_query_cache_hits_total', 'tier="redis"');
      await eventually(async () => (await metric(system, 'converge_query_cache_hits_total', 'tier="redis"')) > hits, 15_000, 'Redis hits again');
      expect(await metric(system, 'converge_query_cache_redis_errors_total')).toBeGreaterThan(0);
    } finally {
      loading = false;
      await Promise.all(load);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
