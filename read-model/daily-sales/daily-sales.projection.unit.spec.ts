import * as fc from 'fast-check';
import type { OrderLine, OrderStatus, RecordedEvent } from '../../src/contracts';
import { eventLog, givenEvents } from '../../test/support/projection-spec';
import { DAILY_SALES, dailySalesProjection, DailySalesView } from './daily-sales.projection';

const money = (amount: number, currency = 'EUR') => ({ amount, currency });
const line = (sku: string, quantity: number, unit: number, currency = 'EUR'): OrderLine => ({
  sku,
  name: sku,
  quantity,
  unitPrice: money(unit, currency),
  lineTotal: money(quantity * unit, currency),
});
const sum = (lines: OrderLine[]) =>
  money(
    lines.reduce((total, l) => total + l.lineTotal.amount, 0),
    lines[0].lineTotal.currency,
  );

/** Sales events for a day's orders; `on` is the day and time they are recorded. */
function salesLog() {
  const record = eventLog();
  return {
    confirmed: (orderId: string, lines: OrderLine[], on: string): RecordedEvent =>
      record({ type: 'OrderConfirmed', data: { orderId, customerId: 'c1', lines, total: sum(lines) } }, { at: on }),
    cancelled: (orderId: string, lines: OrderLine[], previousStatus: OrderStatus, on: string): RecordedEvent =>
      record(
        {
          type: 'OrderCancelled',
          data: { orderId, reason: 'changed my mind', by: 'customer', previousStatus, lines, total: sum(lines) },
        },
        { at: on },
      ),
  };
}
const day = (view: Partial<DailySalesView> & { day: string }): DailySalesView => ({
  orders: 0,
  units: 0,
  revenue: {},
  cancelledOrders: 0,
  skus: [],
  ...view,
});

const mondayMorning = '2026-03-02T09:15:00.000Z';
const mondayNight = '2026-03-02T23:59:59.999Z';
const tuesday = '2026-03-03T00:00:00.000Z';
const first = [line('TEA', 1, 450), line('MUG', 2, 1250)];
const second = [line('MUG', 1, 1250)];
const firstMonday = day({
  day: '2026-03-02',
  orders: 1,
  units: 3,
  revenue: { EUR: 2950 },
  skus: [
    { sku: 'MUG', units: 2, revenue: { EUR: 2500 } },
    { sku: 'TEA', units: 1, revenue: { EUR: 450 } },
  ],
});
/** The first and second orders, both confirmed on Monday. */
const bothMonday = day({
  day: '2026-03-02',
  orders: 2,
  units: 4,
  revenue: { EUR: 4200 },
  skus: [
    { sku: 'MUG', units: 3, revenue: { EUR: 3750 } },
    { sku: 'TEA', units: 1, revenue: { EUR: 450 } },
  ],
});
/** The first order, confirmed on Monday, cancelled on Tuesday. */
const firstTakenBackTuesday = day({
  day: '2026-03-03',
  orders: -1,
  units: -3,
  revenue: { EUR: -2950 },
  cancelledOrders: 1,
  skus: [
    { sku: 'MUG', units: -2, revenue: { EUR: -2500 } },
    { sku: 'TEA', units: -1, revenue: { EUR: -450 } },
  ],
});

describe('daily sales projection', () => {
  it('books a confirmed order on the day it was confirmed, per sku in sku order', () => {
    const { confirmed } = salesLog();
    givenEvents(dailySalesProjection, [confirmed('o1', first, mondayMorning)]).thenDocuments(DAILY_SALES, {
      '2026-03-02': firstMonday,
    });
  });

  it('adds up a day, keeps each day apart (UTC) and each currency apart', () => {
    const { confirmed } = salesLog();
    const events = [
      confirmed('o1', first, mondayMorning),
      confirmed('o2', second, mondayNight),
      confirmed('o3', [line('MUG', 1, 1400, 'USD')], tuesday),
    ];
    givenEvents(dailySalesProjection, events).thenDocuments(DAILY_SALES, {
      '2026-03-02': bothMonday,
      '2026-03-03': day({
        day: '2026-03-03',
        orders: 1,
        units: 1,
        revenue: { USD: 1400 },
        skus: [{ sku: 'MUG', units: 1, revenue: { USD: 1400 } }],
      }),
    });
  });

  it('takes a confirmed sale back on the day it is cancelled', () => {
    const { confirmed, cancelled } = salesLog();
    givenEvents(dailySalesProjection, [confirmed('o1', first, mondayMorning), cancelled('o1', first, 'confirmed', tuesday)])
      .thenDocument(DAILY_SALES, '2026-03-02', firstMonday)
      .thenDocument(DAILY_SALES, '2026-03-03', firstTakenBackTuesday);
  });

  it('nets a sale confirmed and cancelled on the same day', () => {
    const { confirmed, cancelled } = salesLog();
    const events = [confirmed('o1', second, mondayMorning), cancelled('o1', second, 'confirmed', mondayNight)];
    givenEvents(dailySalesProjection, events).thenDocument(
      DAILY_SALES,
      '2026-03-02',
      day({
        day: '2026-03-02',
        revenue: { EUR: 0 },
        cancelledOrders: 1,
        skus: [{ sku: 'MUG', units: 0, revenue: { EUR: 0 } }],
      }),
    );
  });

  it.each(['pending', 'stock_reserved', 'paid'] as OrderStatus[])('books nothing for an order cancelled while %s', (status) => {
    const { cancelled } = salesLog();
    givenEvents(dailySalesProjection, [cancelled('o1', first, status, mondayMorning)]).thenDocuments(DAILY_SALES, {});
  });

  it('counts a confirmation redelivered in the same batch once', () => {
    const { confirmed } = salesLog();
    const event = confirmed('o1', first, mondayMorning);
    givenEvents(dailySalesProjection, [event, event]).thenDocument(DAILY_SALES, '2026-03-02', firstMonday);
  });

  it('counts a confirmation redelivered in a later batch once, the stored day loaded', () => {
    const { confirmed } = salesLog();
    const event = confirmed('o1', first, mondayMorning);
    const next = confirmed('o2', second, mondayNight);
    givenEvents(dailySalesProjection, [event])
      .andLater([event])
      .thenDocument(DAILY_SALES, '2026-03-02', firstMonday)
      .andLater([event, next])
      .thenDocument(DAILY_SALES, '2026-03-02', bothMonday);
  });

  it('counts a redelivered cancellation once, and an older confirmation replayed after newer ones not at all', () => {
    const { confirmed, cancelled } = salesLog();
    const sale = confirmed('o1', first, mondayMorning);
    const later = confirmed('o2', second, mondayNight);
    const takenBack = cancelled('o1', first, 'confirmed', tuesday);
    const tuesdaySale = confirmed('o3', second, tuesday);
    givenEvents(dailySalesProjection, [sale, later, takenBack])
      .andLater([takenBack, sale, tuesdaySale])
      .thenDocuments(DAILY_SALES, {
        '2026-03-02': bothMonday,
        '2026-03-03': day({
          ...firstTakenBackTuesday,
          orders: 0,
          units: -2,
          revenue: { EUR: -1700 },
          skus: [
            { sku: 'MUG', units: -1, revenue: { EUR: -1250 } },
            { sku: 'TEA', units: -1, revenue: { EUR: -450 } },
          ],
        }),
      });
  });

  it('books any sequence of orders as a plain sum per sku, in sku order, leaving the day it was given untouched', () => {
    const arbitraryLine = fc
      .record({
        sku: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F'),
        quantity: fc.integer({ min: 1, max: 5 }),
        unit: fc.integer({ min: 1, max: 999 }),
        currency: fc.constantFrom('EUR', 'USD'),
      })
      .map(({ sku, quantity, unit, currency }) => line(sku, quantity, unit, currency));
    const order = fc.record({ lines: fc.array(arbitraryLine, { minLength: 1, maxLength: 4 }), cancelled: fc.boolean() });
    fc.assert(
      fc.property(fc.array(order, { maxLength: 20 }), (orders) => {
        const { confirmed, cancelled } = salesLog();
        const events = orders.flatMap(({ lines, cancelled: takenBack }, i) => {
          const sale = confirmed(`o${i}`, lines, mondayMorning);
          return takenBack ? [sale, cancelled(`o${i}`, lines, 'confirmed', mondayNight)] : [sale];
        });
        const expected = new Map<string, { units: number; revenue: Record<string, number> }>();
        for (const { lines, cancelled: takenBack } of orders) {
          for (const sign of takenBack ? [1, -1] : [1]) {
            for (const l of lines) {
              const entry = expected.get(l.sku) ?? { units: 0, revenue: {} };
              entry.units += sign * l.quantity;
              entry.revenue[l.lineTotal.currency] = (entry.revenue[l.lineTotal.currency] ?? 0) + sign * l.lineTotal.amount;
              expected.set(l.sku, entry);
            }
          }
        }
        const [onConfirmed] = dailySalesProjection.handlers.OrderConfirmed;
        const [onCancelled] = dailySalesProjection.handlers.OrderCancelled;
        let doc: DailySalesView | undefined;
        for (const event of events) {
          const given = doc;
          const frozen = JSON.stringify(given);
          const handler = event.type === 'OrderConfirmed' ? onConfirmed : onCancelled;
          doc = (handler.apply(given, event) as DailySalesView | undefined) ?? given;
          expect(JSON.stringify(given)).toBe(frozen);
        }
        const skus = [...expected.keys()].sort().map((sku) => ({ sku, ...expected.get(sku)! }));
        expect(doc?.skus ?? []).toEqual(skus);
      }),
    );
  });
});
