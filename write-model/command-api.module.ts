import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { HealthController, READINESS_CHECKS } from '../src/http/health';
import { CatalogController } from './catalog/catalog.http';
import { catalogCommandHandlers } from './catalog/catalog.commands';
import { EventStore } from './event-store/event-store';
import { InventoryController } from './inventory/inventory.http';
import { inventoryCommandHandlers } from './inventory/inventory.commands';
import { orderCommandHandlers } from './orders/orders.commands';
import { OrdersController } from './orders/orders.http';
import { AggregateStore } from './shared/aggregate-store';

/** The command side: HTTP routes → CommandBus → handlers → event store. */
@Module({})
export class CommandApiModule {
  static forRoot(pool: Pool): DynamicModule {
    return {
      module: CommandApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [CatalogController, InventoryController, OrdersController, HealthController],
      providers: [
        { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool)) },
        { provide: READINESS_CHECKS, useValue: { postgres: () => pool.query('SELECT 1') } },
        ...catalogCommandHandlers,
        ...inventoryCommandHandlers,
        ...orderCommandHandlers,
      ],
    };
  }
}
