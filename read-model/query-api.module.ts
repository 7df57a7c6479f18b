import { DynamicModule, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { METRICS_REGISTRY, MetricsController } from '../src/http/metrics';
import { PROJECTION_NAMES, ProjectionsController } from './query-api/projections.http';
import { ViewFreshness } from './query-api/freshness';
import { StatusData } from './query-api/status/status-data';
import { StatusController } from './query-api/status/status.http';
import { ViewReader } from './query-api/view-response';
import type { ReadCache } from './query-cache/read-cache';
import { type ViewStore, VIEW_STORE } from './view-store/view-store';
import { readViews } from './views';

/** The query side: HTTP reads over the read store only, never the write store. */
@Module({})
export class QueryApiModule {
  static forRoot(
    store: ViewStore,
    freshness: ViewFreshness,
    options: { cache?: ReadCache; registry?: Registry; reader?: ViewReader } = {},
  ): DynamicModule {
    const { cache } = options;
    return {
      module: QueryApiModule,
      controllers: [
        ...readViews.flatMap((view) => view.controllers),
        ProjectionsController,
        StatusController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: VIEW_STORE, useValue: store },
        { provide: ViewFreshness, useValue: freshness },
        { provide: StatusData, useValue: new StatusData(store, freshness, PROJECTION_NAMES) },
        { provide: ViewReader, useValue: options.reader ?? new ViewReader(freshness, cache?.cache, cache?.sync) },
        { provide: METRICS_REGISTRY, useValue: options.registry ?? new Registry() },
        {
          provide: READINESS_CHECKS,
          useValue: { readStore: () => store.checkpoints(), ...(cache && { cache: () => Promise.resolve(cache.health()) }) },
        },
      ],
    };
  }
}
