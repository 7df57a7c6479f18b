import Redis from 'ioredis';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { orderKey } from '../../src/contracts';
import type { Logger } from '../../src/logger';
import type { CheckpointNotice } from '../../src/nats';
import { uniqueName } from '../../test/support/env';
import { REDIS_URL, startRedisServer } from '../../test/support/redis-server';
import { eventually } from '../../test/support/system';
import type { Checkpoint } from '../view-store/view-store';
import { CacheMetrics } from './cache-metrics';
import { CachedResource, FIRST_PAGE, Load, QueryCache } from './query-cache';
import { RedisTier } from './redis-tier';
import { ViewSync } from './view-sync';

/** The cache against the machine's Redis (a key prefix of its own), fed notices by hand, over a store it is told about. */
const PROJECTION = 'product-catalog';
const COLLECTION = 'products';
const key = (n: number) => orderKey(100 + n, n);

interface Harness {
  cache: QueryCache;
  sync: ViewSync;
  redis: RedisTier;
  raw: Redis;
  prefix: string;
  metrics: CacheMetrics;
  registry: Registry;
  notice(n: number, changed: [string, number][], previous?: number): void;
  checkpointAt(n: number): void;
  close(): Promise<void>;
}

async function harness(options: { redisUrl?: string; localMax?: number; logger?: Logger } = {}): Promise<Harness> {
  const prefix = `${uniqueName('cvt')}:`;
  const registry = new Registry();
  const metrics = new CacheMetrics(registry);
  const redis = new RedisTier({ url: options.redisUrl ?? REDIS_URL, keyPrefix: prefix, ttlMs: 60_000, timeoutMs: 200, collections: [COLLECTION], metrics, probeMs: 100, logger: options.logger });
  const cache = new QueryCache({ metrics, redis, localMax: options.localMax ?? 100, ttlMs: 60_000 });
  let checkpoint = key(0);
  let heard = 0;
  const store = {
    checkpoint: async (projection: string) => ({ projection, orderKey: checkpoint, position: 0, eventRecordedAt: null, pending: 0, updatedAt: new Date() }) as Checkpoint,
    checkpoints: async () => [{ projection: PROJECTION, orderKey: checkpoint, position: 0, eventRecordedAt: null, pending: 0, updatedAt: new Date() } as Checkpoint],
  };
  const sync = new ViewSync({ views: [{ projection: PROJECTION, collections: [COLLECTION] }], namespace: 'test', store, cache, metrics });
  const raw = new Redis(options.redisUrl ?? REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  if (!options.redisUrl) await eventually(async () => redis.usable, 10_000, 'Redis tier up');
  await sync.listening();
  return {
    cache, sync, redis, raw, prefix, metrics, registry,
    notice(n, changed, previous = heard) {
      const notice: CheckpointNotice = {
        projection: PROJECTION, orderKey: key(n), position: n, eventRecordedAt: new Date().toISOString(), previous: key(previous),
        changed: changed.map(([id, applied]) => [COLLECTION, id, key(applied)]),
      };
      checkpoint = key(n);
      heard = n;
      sync.handle(notice);
    },
    checkpointAt(n) {
      checkpoint = key(n);
    },
    async close() {
      sync.detach();
      await redis.close();
      if (raw.status === 'ready') {
        const keys = await raw.keys(`${prefix}*`);
        if (keys.length) await raw.del(...keys);
      }
      raw.disconnect();
    },
  };
}

const product = (sku: string): CachedResource => ({ projection: PROJECTION, collection: COLLECTION, id: sku });
const answer = (price: number) => ({ etag: String(price), json: JSON.stringify({ price }), data: { price } });

/** A store read the test releases when it wants, counting how often it was made. */
function controlledLoad() {
  const calls: { release(applied: number, price: number): void }[] = [];
  const load: Load = () =>
    new Promise((resolve) => calls.push({ release: (applied, price) => resolve({ applied: key(applied), answer: answer(price) }) }));
  return { load, calls };
}

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

describe('read cache: no stale set', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('reader A misses and reads version 1; the projector commits version 2 and invalidates; A cannot put version 1 in either tier', async () => {
    const store = controlledLoad();
    const readerA = h.cache.read(product('SKU-1'), undefined, store.load);
    await eventually(async () => store.calls.length === 1, 5_000, 'A to read the store');
    // Version 2 commits and its notice is applied while A still holds version 1.
    h.notice(2, [['SKU-1', 2]]);
    await eventually(async () => (await h.raw.hget(`${h.prefix}{products}:SKU-1`, 'a')) === key(2), 5_000, 'the tombstone');
    store.calls[0].release(1, 100);
    expect((await readerA)!.answer.data).toEqual({ price: 100 }); // A answers what it read: it started before the change

    // Neither tier took version 1: the next read goes to the store and gets version 2.
    expect(await h.raw.hget(`${h.prefix}{products}:SKU-1`, 'b')).toBeNull();
    const next = h.cache.read(product('SKU-1'), undefined, store.load);
    await eventually(async () => store.calls.length === 2, 5_000, 'a second store read');
    store.calls[1].release(2, 200);
    expect((await next)!.answer.data).toEqual({ price: 200 });
    await eventually(async () => (await h.raw.hget(`${h.prefix}{products}:SKU-1`, 'a')) === key(2) && !!(await h.raw.hget(`${h.prefix}{products}:SKU-1`, 'b')), 5_000, 'version 2 in Redis');
    expect((await h.cache.read(product('SKU-1'), undefined, store.load))!.answer.data).toEqual({ price: 200 });
    expect(store.calls).toHaveLength(2);
    expect(await counter(h.registry, 'converge_query_cache_stale_sets_rejected_total')).toBeGreaterThanOrEqual(1);
  });

  it('the Redis script refuses version 1 after an invalidation that came before any entry existed, and after version 2', async () => {
    const miss = await h.redis.get(COLLECTION, 'SKU-2');
    expect(miss).toEqual({ hit: false, epoch: expect.any(String) });
    await h.redis.invalidate(COLLECTION, [['SKU-2', key(2)]]); // nothing cached yet: a tombstone stays
    expect(await h.redis.set(COLLECTION, 'SKU-2', miss!.epoch, key(1), key(1), '1\n{}')).toBe(false);
    expect(await h.redis.set(COLLECTION, 'SKU-2', miss!.epoch, key(2), key(2), '2\n{"v":2}')).toBe(true);
    expect(await h.redis.set(COLLECTION, 'SKU-2', miss!.epoch, key(1), key(3), '1\n{}')).toBe(false);
    expect(await h.redis.get(COLLECTION, 'SKU-2')).toEqual(expect.objectContaining({ hit: true, applied: key(2), body: '2\n{"v":2}' }));
  });

  it('a new epoch (rebuild swap, resynchronisation, a flushed Redis) voids every entry, and sets begun before it', async () => {
    const before = await h.redis.get(COLLECTION, 'SKU-3');
    expect(await h.redis.set(COLLECTION, 'SKU-3', before!.epoch, key(1), key(1), '1\n{}')).toBe(true);
    const started = await h.redis.get(COLLECTION, 'SKU-4');
    await h.redis.newEpoch([COLLECTION]);
    expect(await h.redis.get(COLLECTION, 'SKU-3')).toEqual({ hit: false, epoch: expect.any(String) });
    expect(await h.redis.set(COLLECTION, 'SKU-4', started!.epoch, key(1), key(1), '1\n{}')).toBe(false);
    // A flush takes the epoch too: the next read makes a new one, older sets stay refused.
    await h.raw.del(`${h.prefix}{products}`);
    const afterFlush = await h.redis.get(COLLECTION, 'SKU-4');
    expect(afterFlush!.epoch).not.toBe(started!.epoch);
    expect(await h.redis.set(COLLECTION, 'SKU-4', started!.epoch, key(1), key(1), '1\n{}')).toBe(false);
  });

  it('a read that joined nothing yet cannot be served an entry filled before a token it must include', async () => {
    const store = controlledLoad();
    const first = h.cache.read(product('SKU-5'), undefined, store.load);
    await eventually(async () => store.calls.length === 1);
    store.calls[0].release(1, 100);
    await first;
    expect((await h.cache.read(product('SKU-5'), undefined, store.load))!.tier).toBe('local');
    // A token past every notice heard: the entry may be older than it, so the store answers.
    const withToken = h.cache.read(product('SKU-5'), key(7), store.load);
    await eventually(async () => store.calls.length === 2, 5_000, 'a store read for the token');
    store.calls[1].release(1, 100);
    expect(await withToken).toEqual(expect.objectContaining({ tier: 'store', validAt: key(7) }));
    // Once the notices pass the token, the entry serves it again.
    h.notice(7, []);
    expect((await h.cache.read(product('SKU-5'), key(7), store.load))!.tier).toBe('local');
  });

  it('invalidates the first page with any change of its collection', async () => {
    const store = controlledLoad();
    const page = { projection: PROJECTION, collection: COLLECTION, id: FIRST_PAGE };
    const first = h.cache.read(page, undefined, async () => ({ answer: answer(1) }));
    expect((await first)!.tier).toBe('store');
    expect((await h.cache.read(page, undefined, store.load))!.tier).toBe('local');
    h.notice(3, [['SKU-9', 3]]);
    const after = h.cache.read(page, undefined, store.load);
    await eventually(async () => store.calls.length === 1, 5_000, 'the page read again');
    store.calls[0].release(3, 2);
    expect((await after)!.tier).toBe('store');
  });
});

describe('read cache: single flight', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('100 concurrent misses on one key make one store read', async () => {
    let reads = 0;
    const load: Load = async () => {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { applied: key(1), answer: answer(100) };
    };
    const answers = await Promise.all(Array.from({ length: 100 }, () => h.cache.read(product('HOT-1'), undefined, load)));
    expect(reads).toBe(1);
    expect(answers.every((a) => a?.answer.json === '{"price":100}')).toBe(true);
    expect(await counter(h.registry, 'converge_query_cache_store_reads_total', { reason: 'miss' })).toBe(1);
  });

  it('a read that starts after an invalidation does not join the flight that began before it', async () => {
    const store = controlledLoad();
    const early = h.cache.read(product('HOT-2'), undefined, store.load);
    await eventually(async () => store.calls.length === 1);
    h.notice(2, [['HOT-2', 2]]);
    const late = h.cache.read(product('HOT-2'), undefined, store.load);
    await eventually(async () => store.calls.length === 2, 5_000, 'a flight of its own');
    store.calls[0].release(1, 100);
    store.calls[1].release(2, 200);
    expect((await early)!.answer.data).toEqual({ price: 100 });
    expect((await late)!.answer.data).toEqual({ price: 200 });
  });
});

describe('read cache: notices', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('stops serving a view from the cache when a notice was lost, and serves it again after resynchronising', async () => {
    let reads = 0;
    const load: Load = async () => ({ applied: key(1), answer: answer(++reads) });
    await h.cache.read(product('GAP-1'), undefined, load);
    expect((await h.cache.read(product('GAP-1'), undefined, load))!.tier).toBe('local');
    h.checkpointAt(5);
    h.notice(6, [], 5); // the notice for 5 never came
    expect(h.sync.usable(PROJECTION)).toBeUndefined();
    await eventually(async () => !!h.sync.usable(PROJECTION), 5_000, 'resynchronised');
    // The entry from before the gap is void: it is read again.
    expect((await h.cache.read(product('GAP-1'), undefined, load))!.tier).not.toBe('local');
    expect(reads).toBe(2);
  });
});

describe('read cache: Redis unreachable', () => {
  it('answers every read from the store without error, says it is degraded, and never waits on Redis', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
          done();
        },
      }),
    );
    const h = await harness({ redisUrl: 'redis://:secret@127.0.0.1:1', localMax: 0, logger });
    try {
      let reads = 0;
      const load: Load = async () => ({ applied: key(1), answer: answer(++reads) });
      for (let i = 0; i < 5; i++) expect((await h.cache.read(product('DOWN-1'), undefined, load))!.tier).toBe('store');
      expect(reads).toBe(5);
      // Why, as the connection failed (not ioredis's "Stream isn't writeable" for the calls refused meanwhile), said once.
      await eventually(async () => lines.length > 0, 5_000, 'the warning');
      await new Promise((resolve) => setTimeout(resolve, 500)); // several probes fail meanwhile
      expect(h.redis.health()).toEqual({ state: 'degraded', error: expect.stringContaining('ECONNREFUSED') });
      expect(lines).toEqual([
        expect.objectContaining({
          level: 40,
          msg: expect.stringMatching(
            /^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 yet \(.*ECONNREFUSED.*\), still trying; check REDIS_URL \(reading the store until then\)$/,
          ),
        }),
      ]);
    } finally {
      await h.close();
    }
  });
});

describe('read cache: Redis slow', () => {
  it('skips a Redis that stopped answering, keeps its entries when no invalidation was missed, voids them when one was', async () => {
    const server = await startRedisServer();
    const h = await harness({ redisUrl: server.url, localMax: 0 });
    try {
      await eventually(async () => h.redis.usable, 10_000, 'Redis tier up');
      let reads = 0;
      const load: Load = async () => ({ applied: key(1), answer: answer(++reads) });
      expect((await h.cache.read(product('SLOW-1'), undefined, load))!.tier).toBe('store');
      await eventually(async () => (await h.cache.read(product('SLOW-1'), undefined, load))!.tier === 'redis', 5_000, 'a Redis hit');

      server.pause();
      // Each read waits for the time-out at most, then the store answers; a few in a row degrade the tier.
      for (let i = 0; i < 3; i++) expect((await h.cache.read(product('SLOW-1'), undefined, load))!.tier).toBe('store');
      expect(h.redis.health().state).toBe('degraded');
      const errors = await counter(h.registry, 'converge_query_cache_redis_errors_total');
      expect((await h.cache.read(product('SLOW-1'), undefined, load))!.tier).toBe('store');
      expect(await counter(h.registry, 'converge_query_cache_redis_errors_total')).toBe(errors); // degraded: Redis is not even asked
      server.resume();
      await eventually(async () => h.redis.usable, 10_000, 'Redis tier back');
      expect((await h.cache.read(product('SLOW-1'), undefined, load))!.tier).toBe('redis'); // nothing was missed

      server.pause();
      h.notice(2, [['OTHER', 2]]); // the invalidation times out: Redis may not have it
      await eventually(async () => !h.redis.usable, 10_000, 'Redis tier degraded');
      server.resume();
      await eventually(async () => h.redis.usable, 10_000, 'Redis tier back');
      expect((await h.cache.read(product('SLOW-1'), undefined, load))!.tier).toBe('store'); // a new epoch voided it
    } finally {
      await h.close();
      await server.dispose();
    }
  });
});
