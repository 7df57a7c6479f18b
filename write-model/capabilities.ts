import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { catalogCapability } from './catalog/catalog.capability';
import type { AppendSignal } from './event-store/append-signal';
import { EventStore } from './event-store/event-store';
import { inventoryCapability } from './inventory/inventory.capability';
import { ordersCapability } from './orders/orders.capability';
import { AggregateStore } from './shared/aggregate-store';
import type { WriteCapability } from './shared/capability';
import { type AggregateCollector, noCommandMetrics } from './shared/command-metrics';

/** Every capability of the write side. A new aggregate adds its capability here. */
export const writeCapabilities: WriteCapability[] = [catalogCapability, inventoryCapability, ordersCapability];

/**
 * The command handlers of every capability, over one aggregate store on the write store (appends
 * told to `signal`), keeping up to `cacheSize` aggregates between commands (see AggregateStore).
 */
export function commandHandling(
  pool: Pool,
  options: { metrics?: AggregateCollector; signal?: AppendSignal; cacheSize?: number } = {},
): Provider[] {
  const { metrics = noCommandMetrics, signal, cacheSize } = options;
  return [
    { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool, signal), { metrics, cacheSize }) },
    ...writeCapabilities.flatMap((capability) => capability.handlers),
  ];
}
