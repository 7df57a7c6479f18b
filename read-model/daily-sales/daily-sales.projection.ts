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

/**
 * Adds (sign 1) or takes back (sign -1) an order's lines: a counter, guarded against redelivery by the runtime.
 * Pure, and linear only in the copy of the sku list: a day of a large catalog holds thousands of skus,
 * so only the entries the lines touch are copied, and a new sku is put in its sorted place.
 */
function book(doc: DailySalesView, lines: OrderLine[], sign: 1 | -1): DailySalesView {
  const skus = doc.skus.slice();
  const revenue = { ...doc.revenue };
  let units = doc.units;
  for (const line of lines) {
    const { currency, amount } = line.lineTotal;
    const at = sortedIndex(skus, line.sku);
    const found = skus[at]?.sku === line.sku ? skus[at] : undefined;
    const entry = { sku: line.sku, units: (found?.units ?? 0) + sign * line.quantity, revenue: { ...found?.revenue } };
    entry.revenue[currency] = (entry.revenue[currency] ?? 0) + sign * amount;
    if (found) skus[at] = entry;
    else skus.splice(at, 0, entry);
    revenue[currency] = (revenue[currency] ?? 0) + sign * amount;
    units += sign * line.quantity;
  }
  return { ...doc, units, revenue, skus };
}

/** Where `sku` is, or would go, in a list sorted by sku. */
function sortedIndex(skus: DailySalesView['skus'], sku: string): number {
  let low = 0;
  let high = skus.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (skus[middle].sku < sku) low = middle + 1;
    else high = middle;
  }
  return low;
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
