import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { catalogCommandHandlers } from './catalog/catalog.commands';
import { EventStore } from './event-store/event-store';
import { inventoryCommandHandlers } from './inventory/inventory.commands';
import { orderCommandHandlers } from './orders/orders.commands';
import { AggregateStore } from './shared/aggregate-store';

/** The command handlers without HTTP: what the process manager sends its commands through. */
@Module({})
export class ProcessManagerModule {
  static forRoot(pool: Pool): DynamicModule {
    return {
      module: ProcessManagerModule,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool)) },
        ...catalogCommandHandlers,
        ...inventoryCommandHandlers,
        ...orderCommandHandlers,
      ],
    };
  }
}
