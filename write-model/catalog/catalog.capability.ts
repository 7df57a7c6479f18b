import type { WriteCapability } from '../shared/capability';
import { CatalogController } from './catalog.http';
import { catalogCommandHandlers } from './catalog.commands';

/** Products: register, edit details, change the price, discontinue. */
export const catalogCapability: WriteCapability = {
  handlers: catalogCommandHandlers,
  controllers: [CatalogController],
};
