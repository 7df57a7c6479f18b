import { DynamicModule, Module } from '@nestjs/common';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { ProjectionsController } from './query-api/projections.http';
import { ViewFreshness } from './query-api/freshness';
import { ViewReader } from './query-api/view-response';
import { type ViewStore, VIEW_STORE } from './view-store/view-store';
import { readViews } from './views';

/** The query side: HTTP reads over the read store only, never the write store. */
@Module({})
export class QueryApiModule {
  static forRoot(store: ViewStore, freshness: ViewFreshness): DynamicModule {
    return {
      module: QueryApiModule,
      controllers: [
        ...readViews.flatMap((view) => view.controllers),
        ProjectionsController,
        HealthController,
      ],
      providers: [
        { provide: VIEW_STORE, useValue: store },
        { provide: ViewFreshness, useValue: freshness },
        { provide: ViewReader, useValue: new ViewReader(freshness) },
        { provide: READINESS_CHECKS, useValue: { readStore: () => store.checkpoints() } },
      ],
    };
  }
}
