import type { Type } from '@nestjs/common';

/**
 * What one capability (catalog, inventory, orders) brings to the write side: its command
 * handlers, which every process that sends its commands needs, and its HTTP routes, which
 * only the command API serves. The process modules compose these lists; nothing else does.
 */
export interface WriteCapability {
  handlers: Type[];
  controllers: Type[];
}
