import { LRUCache } from 'lru-cache';
import type { CheckpointNotice } from '../../src/nats';
import type { CacheMetrics } from './cache-metrics';
import type { RedisTier } from './redis-tier';
import type { ViewSync } from './view-sync';

/** What a cached read names: a document, or (id FIRST_PAGE) the first page of the collection's list. */
export interface CachedResource {
  projection: string;
  collection: string;
  id: string;
}

/** Never a document id (skus and order ids have no `~`): the first page of a collection's default list. */
export const FIRST_PAGE = '~first-page';

/** The answer's data as served: its JSON, the parsed value, and the ETag's version ('' for lists). */
export interface CachedAnswer {
  etag: string;
  json: string;
  data: unknown;
}

/** A read answered by the cache, and which position of the view it is known to be the view's document at. */
export interface CacheHit {
  answer: CachedAnswer;
  /** Order key at which the view held exactly this answer. */
  validAt: string;
  /** When that became known (ms since the epoch). */
  knownAt: number;
  tier: 'local' | 'redis' | 'store';
}

/** What a read loads on a miss: the answer and its applied key (a document's; lists leave it to the cache), or null for none. */
export type Load = () => Promise<{ applied?: string; answer: CachedAnswer } | null>;

interface LocalEntry {
  projection: string;
  applied: string;
  validAt: string;
  knownAt: number;
  /** The view's synchronisation epoch the entry was filled in: a resynchronisation voids it. */
  syncEpoch: number;
  answer: CachedAnswer;
}

interface Flight {
  promise: Promise<CacheHit | null>;
  syncEpoch: number;
  /** The lowest position its answer is valid at: a reader with a later token does not join it. */
  validFloor: string;
  /** Raised by invalidations heard while it flies: an answer applied below it is not cached anywhere. */
  floor: string;
}

export interface QueryCacheOptions {
  metrics: CacheMetrics;
  redis?: RedisTier;
  /** Entries of the in-process tier (0: none). */
  localMax: number;
  ttlMs: number;
}

/**
 * Cache-aside over two tiers (an in-process LRU in front of Redis) for documents and first
 * pages. Entries carry the order key they were read at; invalidations from the projectors'
 * notices leave their key behind (a Redis tombstone, a raised floor on a read in flight), so a
 * read that started before a change can never cache what it read. Concurrent misses on one
 * key share one store read (single flight). Serves a view only while ViewSync hears every one
 * of its notices; otherwise the caller reads the store.
 */
export class QueryCache {
  private readonly local?: LRUCache<string, LocalEntry>;
  private readonly flights = new Map<string, Flight>();
  /** Keys whose invalidation is on its way to Redis: a Redis answer applied below it is not trusted yet. */
  private readonly pendingRedis = new Map<string, string>();
  private sync?: ViewSync;

  constructor(private readonly options: QueryCacheOptions) {
    if (options.localMax > 0) this.local = new LRUCache({ max: options.localMax, ttl: options.ttlMs });
  }

  get redis(): RedisTier | undefined {
    return this.options.redis;
  }

  /** The synchronisation that says whether a view may be served and up to which position. */
  use(sync: ViewSync): void {
    this.sync = sync;
  }

  /**
   * The cached answer when the view may be served from the cache: from memory, Redis or (on a
   * miss) `load`. `floor`: a consistency token's order key the answer must be valid at.
   * Undefined: the cache cannot serve this view now (the caller reads the store); null: not found.
   */
  async read(resource: CachedResource, floor: string | undefined, load: Load): Promise<CacheHit | null | undefined> {
    const view = this.sync?.usable(resource.projection);
    if (!view) {
      this.options.metrics.storeReads.inc({ reason: 'bypass' });
      return undefined;
    }
    const key = slot(resource.collection, resource.id);
    const hit = this.localHit(resource.projection, key, floor);
    if (hit) return hit;
    const flight = this.flights.get(key);
    if (flight && flight.syncEpoch === view.epoch && (!floor || flight.validFloor >= floor)) return flight.promise;
    return this.fly(resource, key, view, floor, load);
  }

  /**
   * A local hit needs no await: what the fast path serves. `key`: slot(collection, id).
   * `countMiss` false: a miss is counted by the read that follows it.
   */
  localHit(projection: string, key: string, floor?: string, countMiss = true): CacheHit | undefined {
    if (!this.local) return undefined;
    const entry = this.local.get(key);
    const view = entry && this.sync?.usable(projection);
    if (!entry || !view || entry.syncEpoch !== view.epoch || entry.projection !== projection) {
      if (countMiss) this.options.metrics.misses.inc({ tier: 'local' });
      return undefined;
    }
    // Every notice since the entry was filled was applied to it: it is still the view's document at the last one.
    const validAt = max(entry.validAt, view.heard);
    if (floor && validAt < floor) {
      this.options.metrics.misses.inc({ tier: 'local' });
      return undefined;
    }
    this.options.metrics.hits.inc({ tier: 'local' });
    return { answer: entry.answer, validAt, knownAt: validAt === entry.validAt ? entry.knownAt : view.heardAt, tier: 'local' };
  }

  /** Applies a projector's notice: each changed document (and its collection's first page) is invalidated in both tiers. */
  invalidate(notice: CheckpointNotice): void {
    const byCollection = new Map<string, [string, string][]>();
    for (const [collection, id, applied] of notice.changed ?? []) {
      if (!byCollection.has(collection)) byCollection.set(collection, [[FIRST_PAGE, notice.orderKey]]);
      byCollection.get(collection)!.push([id, applied]);
    }
    for (const [collection, changes] of byCollection) {
      for (const [id, applied] of changes) this.invalidateLocally(slot(collection, id), applied);
      this.options.metrics.invalidations.inc({ kind: 'document' }, changes.length - 1);
      const redis = this.options.redis;
      if (!redis) continue;
      if (!redis.usable) {
        void redis.invalidate(collection, changes); // refused: noted, so it gets new epochs before it is used again
        continue;
      }
      const keys = changes.map(([id, applied]) => {
        const key = slot(collection, id);
        this.pendingRedis.set(key, max(this.pendingRedis.get(key) ?? '', applied));
        return [key, applied] as const;
      });
      void redis.invalidate(collection, changes).then(() => {
        for (const [key, applied] of keys) if (this.pendingRedis.get(key) === applied) this.pendingRedis.delete(key);
      });
    }
  }

  /** Voids every entry of the collections, in both tiers (a rebuild's swap, a resynchronisation). */
  async drop(collections: string[]): Promise<void> {
    const prefixes = collections.map((c) => slot(c, ''));
    for (const key of [...(this.local?.keys() ?? [])]) if (prefixes.some((p) => key.startsWith(p))) this.local!.delete(key);
    for (const key of [...this.flights.keys()]) if (prefixes.some((p) => key.startsWith(p))) this.flights.delete(key);
    this.options.metrics.invalidations.inc({ kind: 'view' }, collections.length);
    await this.options.redis?.newEpoch(collections);
  }

  private invalidateLocally(key: string, applied: string): void {
    const entry = this.local?.peek(key);
    if (entry && entry.applied < applied) this.local!.delete(key);
    const flight = this.flights.get(key);
    if (flight) {
      flight.floor = max(flight.floor, applied);
      this.flights.delete(key); // later readers must not get what it read before the change
    }
  }

  private fly(resource: CachedResource, key: string, view: { epoch: number; heard: string }, floor: string | undefined, load: Load) {
    const flight: Flight = {
      promise: Promise.resolve(null),
      syncEpoch: view.epoch,
      validFloor: max(view.heard, floor ?? ''),
      floor: this.pendingRedis.get(key) ?? '',
    };
    flight.promise = this.fill(resource, key, flight, view.heard, floor, load).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    this.flights.set(key, flight);
    return flight.promise;
  }

  private async fill(resource: CachedResource, key: string, flight: Flight, heard: string, floor: string | undefined, load: Load): Promise<CacheHit | null> {
    const { metrics, redis } = this.options;
    const read = redis?.usable ? await redis.get(resource.collection, resource.id) : undefined;
    if (read?.hit) {
      // Valid at the last notice this instance heard before asking: every earlier one invalidated Redis first.
      const validAt = max(read.validAt, heard);
      if (read.applied >= flight.floor && (!floor || validAt >= floor)) {
        metrics.hits.inc({ tier: 'redis' });
        const hit: CacheHit = { answer: decode(read.body), validAt, knownAt: Date.now(), tier: 'redis' };
        this.offerLocally(resource, key, flight, read.applied, hit);
        return hit;
      }
    }
    if (redis) metrics.misses.inc({ tier: 'redis' });
    metrics.storeReads.inc({ reason: 'miss' });
    const loaded = await load();
    if (!loaded) return null;
    const applied = loaded.applied ?? flight.validFloor;
    const hit: CacheHit = { answer: loaded.answer, validAt: max(flight.validFloor, applied), knownAt: Date.now(), tier: 'store' };
    if (applied < flight.floor) {
      metrics.staleSetsRejected.inc({ tier: 'local' });
      return hit;
    }
    if (read && redis) void redis.set(resource.collection, resource.id, read.epoch, applied, hit.validAt, encode(hit.answer));
    this.offerLocally(resource, key, flight, applied, hit);
    return hit;
  }

  private offerLocally(resource: CachedResource, key: string, flight: Flight, applied: string, hit: CacheHit): void {
    if (!this.local) return;
    const view = this.sync?.usable(resource.projection);
    const current = this.local.peek(key);
    if (!view || view.epoch !== flight.syncEpoch || applied < flight.floor || (current && current.syncEpoch === view.epoch && current.applied > applied)) {
      this.options.metrics.staleSetsRejected.inc({ tier: 'local' });
      return;
    }
    this.local.set(key, { projection: resource.projection, applied, validAt: hit.validAt, knownAt: hit.knownAt, syncEpoch: flight.syncEpoch, answer: hit.answer });
  }
}

export function slot(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

function max(a: string, b: string): string {
  return a >= b ? a : b;
}

function encode(answer: CachedAnswer): string {
  return `${answer.etag}\n${answer.json}`;
}

function decode(body: string): CachedAnswer {
  const newline = body.indexOf('\n');
  const json = body.slice(newline + 1);
  return { etag: body.slice(0, newline), json, data: JSON.parse(json) };
}
