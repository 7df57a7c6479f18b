import { randomUUID } from 'node:crypto';
import express from 'express';
import Redis from 'ioredis';
import { orderKey, PRODUCT_STREAM, productStreamId, RecordedEvent } from '../src/contracts';
import { CheckpointNotice, checkpointSubject, connectNats } from '../src/nats';
import { startQueryApi } from '../src/processes/query-api';
import { PRODUCTS, productCatalogProjection } from '../read-model/product-catalog/product-catalog.projection';
import { createViewStore } from '../read-model/view-store/create-view-store';
import type { ViewChange } from '../read-model/view-store/view-store';
import { Benchmark, BenchResult, freshDatabase, listen, NATS_URL, rate, uniqueName } from './harness';
import { runLoad } from './http-load';
import { benchConfig, benchSku, jsonRequest, scrapeMetrics } from './system';

const SKUS = 10_000;
const CONNECTIONS = 32;
const WRITES_PER_SECOND = 100;
/** Zipf exponent: a few hot products take most reads, as in a real catalog. */
const ZIPF_S = 1;
const ZIPF_WRITES = process.env.BENCH_WRITES === 'zipf';

/**
 * Cached GET /products/{sku} over 10,000 products with Zipf-distributed keys while 100 price
 * changes per second land in the view (committed and announced as the projector does it), side
 * by side with: the query API with CACHE=off, a bare express app serving the same documents
 * from a Map, and bare node:http serving the same bytes. One load generator (autocannon in its
 * own process), 32 keep-alive connections, the four measured in rotating order every round.
 */
export const cachedQueryBenchmark: Benchmark = {
  name: 'cached-query',
  async run(ctx) {
    const read = await freshDatabase(ctx, 'cvb_cache', 'read-store', 1);
    const namespace = uniqueName('cvbcache');
    const store = await createViewStore(read.url, { maxConnections: 2 });
    ctx.defer(() => store.close());
    const current = await seed(store);
    let position = SKUS;

    const cachedConfig = await benchConfig({ writeUrl: read.url, readUrl: read.url, namespace, env: process.env.BENCH_CACHE_LOCAL_MAX ? { CACHE_LOCAL_MAX: process.env.BENCH_CACHE_LOCAL_MAX } : {} });
    const cached = await startQueryApi(cachedConfig, ctx.logger);
    ctx.defer(() => cached.stop());
    ctx.defer(() => dropKeys(cachedConfig.cache.redisUrl, cachedConfig.cache.keyPrefix));
    const uncachedConfig = await benchConfig({ writeUrl: read.url, readUrl: read.url, namespace, env: { CACHE: 'off' } });
    const uncached = await startQueryApi(uncachedConfig, ctx.logger);
    ctx.defer(() => uncached.stop());
    const cachedUrl = `http://127.0.0.1:${cachedConfig.queryApiPort}`;
    const uncachedUrl = `http://127.0.0.1:${uncachedConfig.queryApiPort}`;
    await waitForCache(cachedUrl);

    // The baselines serve what the query API answers, taken from it once.
    const documents = new Map<string, Record<string, unknown>>();
    const bodies = new Map<string, Buffer>();
    for (let i = 0; i < SKUS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SKUS - i) }, async (_, j) => {
          const path = `/products/${benchSku(i + j)}`;
          const res = await jsonRequest<Record<string, unknown>>('GET', `${uncachedUrl}${path}`);
          if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
          documents.set(benchSku(i + j), res.body);
          bodies.set(path, Buffer.from(JSON.stringify(res.body)));
        }),
      );
    }
    // Every product read once through the cache as well, coldest first, so it is measured warm, as it runs:
    // all in Redis, the hottest in the in-process tier.
    for (let i = SKUS - 1; i >= 0; i -= 50) {
      await Promise.all(Array.from({ length: Math.min(50, i + 1) }, (_, j) => jsonRequest('GET', `${cachedUrl}/products/${benchSku(i - j)}`)));
    }
    const expressUrl = await listen(ctx, expressApp(documents));
    const bareUrl = await listen(ctx, (req, res) => {
      const body = bodies.get(req.url ?? '');
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });

    // 100 price changes a second, committed with the checkpoint and announced in batches, as the projector does it.
    const nc = await connectNats(NATS_URL, 'bench-cached-query');
    ctx.defer(() => nc.close());
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      const started = performance.now();
      while (writing) {
        const due = Math.floor(((performance.now() - started) / 1000) * WRITES_PER_SECOND) - writes;
        if (due <= 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          continue;
        }
        const previous = orderKey(position, position);
        const changes = new Map<string, ViewChange>();
        for (let i = 0; i < due; i++) {
          position++;
          // Price changes are catalogue work: any product, not the popular ones (BENCH_WRITES=zipf: the hot ones).
          const sku = benchSku(ZIPF_WRITES ? zipfIndex(Math.random()) : Math.floor(Math.random() * SKUS));
          const before = current.get(sku)!;
          const doc = { ...before, price: { amount: 1000 + (position % 5000), currency: 'EUR' }, version: Number(before.version) + 1 };
          current.set(sku, doc);
          changes.set(sku, { collection: PRODUCTS, id: sku, doc, applied: orderKey(position, position) });
        }
        const recordedAt = new Date();
        const at = orderKey(position, position);
        await store.commit({ projection: productCatalogProjection.name, changes: [...changes.values()], checkpoint: { orderKey: at, position, eventRecordedAt: recordedAt, pending: 0 } });
        const notice: CheckpointNotice = {
          projection: productCatalogProjection.name, orderKey: at, position, eventRecordedAt: recordedAt.toISOString(), previous,
          changed: [...changes.values()].map((c) => [PRODUCTS, c.id, c.applied]),
        };
        nc.publish(checkpointSubject(namespace), JSON.stringify(notice));
        writes += due;
      }
    })();
    ctx.defer(async () => {
      writing = false;
      await writer;
    });

    const paths = Array.from({ length: 100_000 }, () => `/products/${benchSku(zipfIndex(Math.random()))}`);
    const seconds = Math.max(1, Math.round(3 * ctx.scale));
    const load = async (baseUrl: string, duration: number) => {
      const result = await runLoad({ baseUrl, method: 'GET', paths, connections: CONNECTIONS, durationSeconds: duration });
      if (result.non2xx || result.errors) throw new Error(`${baseUrl}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return { ops: result.ok, seconds: result.seconds };
    };
    const sides = { cached: cachedUrl, uncached: uncachedUrl, express: expressUrl, bare: bareUrl };
    for (const url of Object.values(sides)) await load(url, 1); // warm up (fills the cache, JITs every server)
    const before = await cacheCounters(cachedUrl);
    const writesBefore = writes;
    const totals = Object.fromEntries(Object.keys(sides).map((side) => [side, { ops: 0, seconds: 0 }])) as Record<keyof typeof sides, { ops: number; seconds: number }>;
    const order = Object.keys(sides) as (keyof typeof sides)[];
    const rounds = 3;
    const measuredStart = performance.now();
    for (let round = 0; round < rounds; round++) {
      const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      for (const side of round % 2 ? rotated.reverse() : rotated) {
        const { ops, seconds: s } = await load(sides[side], seconds);
        totals[side].ops += ops;
        totals[side].seconds += s;
      }
    }
    const writeRate = (writes - writesBefore) / ((performance.now() - measuredStart) / 1000);
    writing = false;
    await writer;
    const after = await cacheCounters(cachedUrl);
    const redisState = (await jsonRequest<{ details?: { cache?: { redis?: string } } } | undefined>('GET', `${cachedUrl}/health/ready`)).body?.details?.cache?.redis;
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    const r = (side: keyof typeof sides) => totals[side].ops / totals[side].seconds;
    const notes = [
      `GET /products/{sku} over ${SKUS.toLocaleString('en-US')} products, Zipf (s=${ZIPF_S}) keys, ${CONNECTIONS} keep-alive connections (autocannon in its own process), ` +
        `${rounds} rounds of ${seconds} s per side in rotating order; ${Math.round(writeRate)} price changes/s (${ZIPF_WRITES ? 'Zipf' : 'uniform'} over the products) committed and announced meanwhile`,
      `rates: cached ${rate(r('cached'), 'req/s')}, uncached ${rate(r('uncached'), 'req/s')}, bare express (Map, res.json) ${rate(r('express'), 'req/s')}, bare node:http ${rate(r('bare'), 'req/s')}`,
      `hit ratio ${(hits / Math.max(1, hits + misses) * 100).toFixed(1)}% (${hits.toLocaleString('en-US')} hits, ${(after.localHits - before.localHits).toLocaleString('en-US')} of them in-process, ` +
        `${misses.toLocaleString('en-US')} store reads, during the cached rounds; ${after.views - before.views} whole-view invalidations, ${after.redisErrors - before.redisErrors} Redis errors or time-outs; Redis tier ${redisState} at the end)`,
    ];
    const row = (benchmark: string, baseline: keyof typeof sides, minimum: number, target: string, extra: string[] = []): BenchResult => ({
      benchmark,
      baseline: rate(r(baseline), 'req/s'),
      subject: rate(r('cached'), 'req/s'),
      ratio: r('cached') / r(baseline),
      target,
      pass: r('cached') / r(baseline) >= minimum,
      notes: extra,
    });
    return [
      row('cached query vs bare express (Map)', 'express', 0.8, '≥ 0.8×', notes),
      row('cached query vs uncached query API', 'uncached', 5, '≥ 5×'),
      { ...row('cached query vs bare node:http', 'bare', 0, '-'), pass: undefined, target: 'context' },
    ];
  },
};

/** A Zipf-distributed index in [0, SKUS) from a uniform u, by inverting the cumulative weights. */
const cumulative = (() => {
  const weights = Array.from({ length: SKUS }, (_, i) => 1 / (i + 1) ** ZIPF_S);
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
})();

function zipfIndex(u: number): number {
  let lo = 0;
  let hi = SKUS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function expressApp(documents: Map<string, Record<string, unknown>>) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/products/:sku', (req, res) => {
    const doc = documents.get(req.params.sku);
    if (!doc) return void res.status(404).end();
    res.json(doc);
  });
  return app;
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

async function waitForCache(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await jsonRequest<{ details?: { cache?: { status?: string } } } | undefined>('GET', `${url}/health/ready`)).body?.details?.cache?.status !== 'up') {
    if (Date.now() > deadline) throw new Error('the read cache did not come up (is Redis running on REDIS_URL?)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function cacheCounters(url: string): Promise<{ hits: number; misses: number; localHits: number; views: number; redisErrors: number }> {
  const sum = await scrapeMetrics(url);
  return {
    hits: sum('converge_query_cache_hits_total'),
    localHits: sum('converge_query_cache_hits_total', 'tier="local"'),
    misses: sum('converge_query_cache_store_reads_total', 'reason="miss"'),
    views: sum('converge_query_cache_invalidations_total', 'kind="view"'),
    redisErrors: sum('converge_query_cache_redis_errors_total'),
  };
}

/** 10,000 product documents and the projection's checkpoint (at position SKUS), as the projector would write them. */
async function seed(store: Awaited<ReturnType<typeof createViewStore>>): Promise<Map<string, Record<string, unknown>>> {
  const docs = new Map<string, Record<string, unknown>>();
  for (const view of productCatalogProjection.views) await store.ensureCollection(view);
  const [registered] = productCatalogProjection.handlers.ProductRegistered;
  const recordedAt = new Date();
  for (let from = 0; from < SKUS; from += 1000) {
    const changes = Array.from({ length: Math.min(1000, SKUS - from) }, (_, j) => {
      const i = from + j;
      const sku = benchSku(i);
      const event: RecordedEvent = {
        position: i + 1, txId: String(i + 1), eventId: randomUUID(), streamId: productStreamId(sku), streamType: PRODUCT_STREAM, streamVersion: 1,
        type: 'ProductRegistered', schemaVersion: 2,
        data: { sku, name: `Bench product ${sku}`, description: 'A product of the benchmark catalog.', price: { amount: 1299, currency: 'EUR' } },
        metadata: { correlationId: randomUUID() }, recordedAt,
      };
      // eslint-disable-next-line prefer-spread -- a projection handler's apply(), not Function.prototype.apply
      const doc = registered.apply(undefined, event) as Record<string, unknown>;
      docs.set(sku, doc);
      return { collection: PRODUCTS, id: sku, doc, applied: orderKey(event.txId, event.position) };
    });
    const last = from + changes.length;
    await store.commit({ projection: productCatalogProjection.name, changes, checkpoint: { orderKey: orderKey(last, last), position: last, eventRecordedAt: recordedAt, pending: 0 } });
  }
  return docs;
}
