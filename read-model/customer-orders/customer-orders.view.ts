import type { ReadView } from '../read-view';
import { CustomerOrdersController } from './customer-orders.http';
import { customerOrdersProjection } from './customer-orders.projection';

/** A customer's orders. */
export const customerOrdersView: ReadView = {
  projection: () => customerOrdersProjection,
  controllers: [CustomerOrdersController],
};
