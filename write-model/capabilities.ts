import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { catalogCapability } from './catalog/catalog.capability';
import type { AppendSignal } from './event-store/append-signal';
import { EventStore } from './event-store/event-store';
import { inventoryCapability } from './inventory/inventory.capability';
import { ordersCapability } from './orders/orders.capability';
import { AggregateStore } from './shared/aggregate-store';
import type { WriteCapability } from './shared/capability';
import { type CommandCollector, noCommandMetrics } from './shared/command-metrics';

/** Every capability of the write side. A new aggregate adds its capability here. */
export const writeCapabilities: WriteCapability[] = [catalogCapability, inventoryCapability, ordersCapability];

/** The command handlers of every capability, over one aggregate store on the write store (appends told to `signal`). */
export function commandHandling(pool: Pool, metrics: CommandCollector = noCommandMetrics, signal?: AppendSignal): Provider[] {
  return [
    { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool, signal), { metrics }) },
    ...writeCapabilities.flatMap((capability) => capability.handlers),
  ];
}
