import { Counter, Gauge, Registry } from 'prom-client';

/** The read cache's Prometheus metrics (`converge_query_cache_*`), registered on the process's registry. */
export class CacheMetrics {
  readonly hits: Counter<'tier'>;
  readonly misses: Counter<'tier'>;
  readonly storeReads: Counter<'reason'>;
  readonly invalidations: Counter<'kind'>;
  readonly staleSetsRejected: Counter<'tier'>;
  readonly redisErrors: Counter;
  readonly redisUp: Gauge;
  readonly viewsInSync: Gauge<'projection'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.hits = new Counter({ name: 'converge_query_cache_hits_total', help: 'reads answered from a cache tier', labelNames: ['tier'], registers });
    this.misses = new Counter({ name: 'converge_query_cache_misses_total', help: 'reads a cache tier could not answer', labelNames: ['tier'], registers });
    this.storeReads = new Counter({
      name: 'converge_query_cache_store_reads_total',
      help: 'read-store queries made by the cache: miss (after both tiers), bypass (cache not usable for the view)',
      labelNames: ['reason'],
      registers,
    });
    this.invalidations = new Counter({
      name: 'converge_query_cache_invalidations_total',
      help: 'invalidations applied: document (a changed document), view (every entry of a view: rebuild swap, resynchronisation)',
      labelNames: ['kind'],
      registers,
    });
    this.staleSetsRejected = new Counter({
      name: 'converge_query_cache_stale_sets_rejected_total',
      help: 'cache writes refused because a newer entry or an invalidation got there first',
      labelNames: ['tier'],
      registers,
    });
    this.redisErrors = new Counter({ name: 'converge_query_cache_redis_errors_total', help: 'failed or timed-out Redis calls', registers });
    this.redisUp = new Gauge({ name: 'converge_query_cache_redis_up', help: '1 while the Redis tier is in use, 0 while degraded', registers });
    this.viewsInSync = new Gauge({
      name: 'converge_query_cache_view_in_sync',
      help: '1 while the cache serves a projection (its change notices are being heard), 0 while it reads the store',
      labelNames: ['projection'],
      registers,
    });
  }
}
