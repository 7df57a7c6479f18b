import type { OrderLine, RecordedOrderEvent } from '../../src/contracts';
import type { Projection, ProjectionHandler } from '../projector/projection';

export const DAILY_SALES = 'daily_sales';

/** Amounts in minor units per currency, e.g. { "EUR": 12999 }. */
export type Revenue = Record<string, number>;

export interface DailySalesView {
  day: string;
  /** Confirmed orders, less confirmed orders cancelled that day. */
  orders: number;
  units: number;
  revenue: Revenue;
  cancelledOrders: number;
  skus: { sku: string; units: number; revenue: Revenue }[];
}

const empty = (day: string): DailySalesView => ({ day, orders: 0, units: 0, revenue: {}, cancelledOrders: 0, skus: [] });

const dayOf = (event: RecordedOrderEvent) => new Date(event.recordedAt).toISOString().slice(0, 10);

/** Adds (sign 1) or takes back (sign -1) an order's lines: a counter, guarded against redelivery by the runtime. */
function book(doc: DailySalesView, lines: OrderLine[], sign: 1 | -1): DailySalesView {
  const skus = new Map(doc.skus.map((s) => [s.sku, { ...s, revenue: { ...s.revenue } }]));
  const revenue = { ...doc.revenue };
  let units = doc.units;
  for (const line of lines) {
    const entry = skus.get(line.sku) ?? { sku: line.sku, units: 0, revenue: {} };
    entry.units += sign * line.quantity;
    entry.revenue[line.lineTotal.currency] = (entry.revenue[line.lineTotal.currency] ?? 0) + sign * line.lineTotal.amount;
    revenue[line.lineTotal.currency] = (revenue[line.lineTotal.currency] ?? 0) + sign * line.lineTotal.amount;
    units += sign * line.quantity;
    skus.set(line.sku, entry);
  }
  return { ...doc, units, revenue, skus: [...skus.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0)) };
}

const confirmed: ProjectionHandler<RecordedOrderEvent, DailySalesView> = {
  collection: DAILY_SALES,
  documentId: dayOf,
  apply: (doc, event) => {
    const { lines } = event.data as Extract<RecordedOrderEvent, { type: 'OrderConfirmed' }>['data'];
    const booked = book(doc ?? empty(dayOf(event)), lines, 1);
    return { ...booked, orders: booked.orders + 1 };
  },
};

/** A confirmed sale cancelled later is taken back on the day of the cancellation (as a refund is). */
const cancelled: ProjectionHandler<RecordedOrderEvent, DailySalesView> = {
  collection: DAILY_SALES,
  documentId: dayOf,
  apply: (doc, event) => {
    const { lines, previousStatus } = event.data as Extract<RecordedOrderEvent, { type: 'OrderCancelled' }>['data'];
    if (previousStatus !== 'confirmed') return undefined;
    const booked = book(doc ?? empty(dayOf(event)), lines, -1);
    return { ...booked, orders: booked.orders - 1, cancelledOrders: booked.cancelledOrders + 1 };
  },
};

export const dailySalesProjection: Projection = {
  name: 'daily-sales',
  views: [{ collection: DAILY_SALES, fields: { day: 'string' } }],
  handlers: { OrderConfirmed: [confirmed], OrderCancelled: [cancelled] },
};
