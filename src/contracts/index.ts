import { catalogSchemaVersions } from './catalog.events';
import { inventorySchemaVersions } from './inventory.events';
import { ordersSchemaVersions } from './orders.events';

export * from './envelope';
export * from './money';
export * from './catalog.events';
export * from './inventory.events';
export * from './orders.events';

/** The schema version new events of each type are written with. */
export const currentSchemaVersion: Record<string, number> = {
  ...catalogSchemaVersions,
  ...inventorySchemaVersions,
  ...ordersSchemaVersions,
};
export * from './upcasters';
export * from './wire';
export * from './consistency-token';
export * from './event-log';
