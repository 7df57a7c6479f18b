import type { WriteCapability } from '../shared/capability';
import { InventoryController } from './inventory.http';
import { inventoryCommandHandlers } from './inventory.commands';

/** Stock per sku: receipts, adjustments, and the saga's reservations, releases and commits. */
export const inventoryCapability: WriteCapability = {
  handlers: inventoryCommandHandlers,
  controllers: [InventoryController],
};
