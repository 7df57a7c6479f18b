import { DynamicModule, Module } from '@nestjs/common';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { CustomerOrdersController } from './customer-orders/customer-orders.http';
import { DailySalesController } from './daily-sales/daily-sales.http';
import { InventoryLevelsController } from './inventory-levels/inventory-levels.http';
import { OrderSummaryController } from './order-summary/order-summary.http';
import { ProductCatalogController } from './product-catalog/product-catalog.http';
import { ProjectionsController } from './query-api/projections.http';
import { ViewFreshness } from './query-api/freshness';
import { VIEW_STORE } from './query-api/tokens';
import { ViewReader } from './query-api/view-response';
import type { ViewStore } from './view-store/view-store';

/** The query side: HTTP reads over the read store only, never the write store. */
@Module({})
export class QueryApiModule {
  static forRoot(store: ViewStore, freshness: ViewFreshness): DynamicModule {
    return {
      module: QueryApiModule,
      controllers: [
        ProductCatalogController,
        InventoryLevelsController,
        OrderSummaryController,
        CustomerOrdersController,
        DailySalesController,
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
