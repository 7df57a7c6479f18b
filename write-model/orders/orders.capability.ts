import type { WriteCapability } from '../shared/capability';
import { OrdersController } from './orders.http';
import { orderCommandHandlers } from './orders.commands';

/** Orders: place, cancel, ship, and the saga's steps on the order. */
export const ordersCapability: WriteCapability = {
  handlers: orderCommandHandlers,
  controllers: [OrdersController],
};
