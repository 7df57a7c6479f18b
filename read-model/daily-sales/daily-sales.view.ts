import type { ReadView } from '../read-view';
import { DailySalesController } from './daily-sales.http';
import { dailySalesProjection } from './daily-sales.projection';

/** Sales per day: a counter view, guarded against double counting. */
export const dailySalesView: ReadView = {
  projection: () => dailySalesProjection,
  controllers: [DailySalesController],
};
