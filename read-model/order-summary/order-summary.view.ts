import type { ReadView } from '../read-view';
import { OrderSummaryController } from './order-summary.http';
import { orderSummaryProjection } from './order-summary.projection';

/** One order with product names, totals, status and timeline. */
export const orderSummaryView: ReadView = {
  projection: () => orderSummaryProjection,
  controllers: [OrderSummaryController],
};
