import { catalogSchemaVersions } from './catalog.events';
import { inventorySchemaVersions } from './inventory.events';

export * from './envelope';
export * from './money';
export * from './catalog.events';
export * from './inventory.events';

/** The schema version new events of each type are written with. */
export const currentSchemaVersion: Record<string, number> = {
  ...catalogSchemaVersions,
  ...inventorySchemaVersions,
};
export * from './upcasters';
export * from './wire';
export * from './consistency-token';
