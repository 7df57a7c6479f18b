import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { catalogCapability } from './catalog/catalog.capability';
import { EventStore } from './event-store/event-store';
import { inventoryCapability } from './inventory/inventory.capability';
import { ordersCapability } from './orders/orders.capability';
import { AggregateStore } from './shared/aggregate-store';
import type { WriteCapability } from './shared/capability';

/** Every capability of the write side. A new aggregate adds its capability here. */
export const writeCapabilities: WriteCapability[] = [catalogCapability, inventoryCapability, ordersCapability];

/** The command handlers of every capability, over one aggregate store on the write store. */
export function commandHandling(pool: Pool): Provider[] {
  return [
    { provide: AggregateStore, useValue: new AggregateStore(new EventStore(pool)) },
    ...writeCapabilities.flatMap((capability) => capability.handlers),
  ];
}
