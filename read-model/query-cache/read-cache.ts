import type { Registry } from 'prom-client';
import type { Logger } from '../../src/logger';
import type { ViewStore } from '../view-store/view-store';
import { CacheMetrics } from './cache-metrics';
import { CACHED_VIEWS } from './cached-views';
import { QueryCache } from './query-cache';
import { RedisTier } from './redis-tier';
import { ViewSync } from './view-sync';

export interface ReadCacheSettings {
  redisUrl: string;
  keyPrefix: string;
  ttlMs: number;
  localMax: number;
  redisTimeoutMs: number;
}

export interface ReadCache {
  cache: QueryCache;
  sync: ViewSync;
  redis: RedisTier;
  /** Readiness detail: the cache never makes the API unready; it is degraded while it reads the store instead. */
  health(): { status: 'up' | 'degraded'; redis: string; views: Record<string, string> };
  close(): Promise<void>;
}

/** The query API's read cache: Redis behind an in-process LRU, kept in step by the projectors' notices. */
export function createReadCache(options: { settings: ReadCacheSettings; store: ViewStore; namespace: string; registry: Registry; logger?: Logger }): ReadCache {
  const { settings, logger } = options;
  const metrics = new CacheMetrics(options.registry);
  const redis = new RedisTier({
    url: settings.redisUrl,
    keyPrefix: settings.keyPrefix,
    ttlMs: settings.ttlMs,
    timeoutMs: settings.redisTimeoutMs,
    collections: CACHED_VIEWS.map((v) => v.collection),
    metrics,
    logger,
  });
  const cache = new QueryCache({ metrics, redis, localMax: settings.localMax, ttlMs: settings.ttlMs });
  const byProjection = new Map<string, string[]>();
  for (const view of CACHED_VIEWS) byProjection.set(view.projection, [...(byProjection.get(view.projection) ?? []), view.collection]);
  const sync = new ViewSync({
    views: [...byProjection].map(([projection, collections]) => ({ projection, collections })),
    namespace: options.namespace,
    store: options.store,
    cache,
    metrics,
    logger,
  });
  return {
    cache,
    sync,
    redis,
    health() {
      const views = sync.health();
      const { state, error } = redis.health();
      const degraded = state !== 'up' || Object.values(views).some((v) => v !== 'in sync');
      return { status: degraded ? 'degraded' : 'up', redis: error ? `${state}: ${error}` : state, views };
    },
    async close() {
      sync.detach();
      await redis.close();
    },
  };
}
