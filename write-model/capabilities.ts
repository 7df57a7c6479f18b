import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { catalogCapability } from './catalog/catalog.capability';
import { EventStore } from './event-store/event-store';
import { inventoryCapability } from './inventory/inventory.capability';
import { ordersCapability } from './orders/orders.capability';
import { AggregateStore } from './shared/aggregate-store';
import type { WriteCapability } from './shared/capability';
import { type CommandCollector, noCommandMetrics } from './shared/command-metrics';

/** Every capability of the write side. A new aggregate adds its capability here. */
export const writeCapabilities: WriteCapability[] = [catalogCapability, inventoryCapability, ordersCapability];

/** The command handlers of every capability, over one aggregate store on the write store. */
export function commandHandling(pool: Pool, metrics: CommandCollector = noCommandMetrics): Provider[] {
  return [
    { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool), { metrics }) },
    ...writeCapabilities.flatMap((capability) => capability.handlers),
  ];
}
