import type { Pool } from 'pg';
import { ORDER_STREAM, PRODUCT_STREAM, STOCK_STREAM } from '../../src/contracts';

/** Per sku: its product stream (registration, then price and detail changes) and its stock stream. */
const PRODUCT_EVENTS = 50;
const STOCK_EVENTS = 450;
/** Per order: placed, stock reserved, payment authorized, confirmed, then shipped (or, one in ten, cancelled). */
const ORDER_EVENTS = 5;
/** One INSERT (so one transaction id) per chunk, like a log written by many transactions. */
const CHUNKS = 20;
/** recorded_at spreads over a year, so daily-sales has a document per day. */
const SPAN_SECONDS = 365 * 24 * 3600;

export interface MixedLog {
  events: number;
  skus: number;
  orders: number;
  transactions: number;
}

/**
 * Grows an empty write store to about `events` valid events by SQL: half catalog and stock
 * events over `events / 1000` skus, half order events (5 per order), in CHUNKS transactions;
 * within one, streams interleave and each stream's events keep their version order, so the
 * relay's order (tx_id, position) is every stream's order. Every projection has work.
 */
export async function growMixedLog(pool: Pool, events: number): Promise<MixedLog> {
  const skus = Math.max(2, Math.round(events / 2 / (PRODUCT_EVENTS + STOCK_EVENTS)));
  const orders = Math.max(1, Math.round(events / 2 / ORDER_EVENTS));
  const range = (n: number, chunk: number) => [Math.floor((chunk * n) / CHUNKS) + 1, Math.floor(((chunk + 1) * n) / CHUNKS)];
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    const [pLo, pHi] = range(PRODUCT_EVENTS, chunk);
    const [sLo, sHi] = range(STOCK_EVENTS, chunk);
    const [oLo, oHi] = range(orders, chunk); // 1-based order numbers
    await pool.query(CHUNK_SQL, [chunk, CHUNKS, skus, pLo, pHi, sLo, sHi, oLo, oHi, SPAN_SECONDS, PRODUCT_STREAM, STOCK_STREAM, ORDER_STREAM, orders]);
  }
  await pool.query(`INSERT INTO streams (stream_id, stream_type, version)
                    SELECT stream_id, min(stream_type), max(stream_version) FROM events GROUP BY stream_id`);
  // A log that has been in use: hint bits set and statistics current, as after autovacuum.
  await pool.query('VACUUM ANALYZE events');
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  return { events: rows[0].n, skus, orders, transactions: CHUNKS };
}

// $1 chunk, $2 chunks, $3 skus, $4..$5 product versions, $6..$7 stock versions, $8..$9 order numbers,
// $10 span of recorded_at, $11..$13 stream types, $14 orders. slot ∈ [0, 1): where in the chunk an event falls.
const CHUNK_SQL = `
INSERT INTO events (event_id, stream_id, stream_type, stream_version, event_type, schema_version, data, metadata, recorded_at)
SELECT gen_random_uuid(), e.stream_id, e.stream_type, e.version, e.type, e.schema_version, e.data,
       '{"correlationId":"bench-rebuild","actor":"bench"}'::jsonb,
       timestamptz '2025-01-01 00:00:00Z' + (($1::int + e.slot) * $10::float8 / $2::int) * interval '1 second'
  FROM (
    SELECT 'product-' || k.sku AS stream_id, $11::text AS stream_type, v AS version,
           CASE WHEN v = 1 THEN 'ProductRegistered' WHEN v % 2 = 0 THEN 'ProductPriceChanged' ELSE 'ProductDetailsUpdated' END AS type,
           CASE WHEN v = 1 THEN 2 ELSE 1 END AS schema_version,
           CASE WHEN v = 1 THEN jsonb_build_object('sku', k.sku, 'name', 'Bench product ' || k.sku,
                                  'description', 'A product of the rebuild benchmark.', 'price', jsonb_build_object('amount', 1000, 'currency', 'EUR'))
                WHEN v % 2 = 0 THEN jsonb_build_object('sku', k.sku, 'price', jsonb_build_object('amount', 1000 + v, 'currency', 'EUR'),
                                  'previousPrice', jsonb_build_object('amount', CASE WHEN v = 2 THEN 1000 ELSE 1000 + v - 2 END, 'currency', 'EUR'))
                ELSE jsonb_build_object('sku', k.sku, 'name', 'Bench product ' || k.sku || ' mk ' || v,
                                  'description', 'A product of the rebuild benchmark, revised.') END AS data,
           (v - $4::int)::float8 / ($5::int - $4::int + 1) AS slot
      FROM generate_series(0, $3::int - 1) AS s
     CROSS JOIN LATERAL (SELECT 'BENCH-' || lpad(s::text, 6, '0') AS sku) AS k
     CROSS JOIN generate_series($4::int, $5::int) AS v
    UNION ALL
    -- A stock cycle of three: 2 received, 1 reserved, 1 committed; the levels after each event.
    SELECT 'stock-' || k.sku, $12::text, v,
           (ARRAY['StockReceived', 'StockReserved', 'StockCommitted'])[(v - 1) % 3 + 1], 1,
           CASE (v - 1) % 3
             WHEN 0 THEN jsonb_build_object('sku', k.sku, 'onHand', (v - 1) / 3 + 2, 'reserved', 0, 'quantity', 2)
             WHEN 1 THEN jsonb_build_object('sku', k.sku, 'onHand', (v - 1) / 3 + 2, 'reserved', 1, 'quantity', 1,
                                            'orderId', 'BO-' || lpad((((s * 151 + v) % $14::int) + 1)::text, 8, '0'))
             ELSE jsonb_build_object('sku', k.sku, 'onHand', (v - 1) / 3 + 1, 'reserved', 0, 'quantity', 1,
                                     'orderId', 'BO-' || lpad((((s * 151 + v - 1) % $14::int) + 1)::text, 8, '0'))
           END,
           (v - $6::int)::float8 / ($7::int - $6::int + 1)
      FROM generate_series(0, $3::int - 1) AS s
     CROSS JOIN LATERAL (SELECT 'BENCH-' || lpad(s::text, 6, '0') AS sku) AS k
     CROSS JOIN generate_series($6::int, $7::int) AS v
    UNION ALL
    SELECT 'order-' || o.id, $13::text, step,
           CASE step WHEN 1 THEN 'OrderPlaced' WHEN 2 THEN 'OrderStockReserved' WHEN 3 THEN 'OrderPaymentAuthorized'
                     WHEN 4 THEN 'OrderConfirmed' ELSE CASE WHEN n % 10 = 0 THEN 'OrderCancelled' ELSE 'OrderShipped' END END, 1,
           CASE step
             WHEN 1 THEN jsonb_build_object('orderId', o.id, 'customerId', o.customer, 'lines', o.lines, 'total', o.total, 'paymentToken', 'tok_approve')
             WHEN 2 THEN jsonb_build_object('orderId', o.id)
             WHEN 3 THEN jsonb_build_object('orderId', o.id, 'authorizationId', 'auth-' || o.id, 'amount', o.total)
             WHEN 4 THEN jsonb_build_object('orderId', o.id, 'customerId', o.customer, 'lines', o.lines, 'total', o.total)
             ELSE CASE WHEN n % 10 = 0
               THEN jsonb_build_object('orderId', o.id, 'reason', 'changed my mind', 'by', 'customer', 'previousStatus', 'confirmed',
                                       'lines', o.lines, 'total', o.total)
               ELSE jsonb_build_object('orderId', o.id) END
           END,
           -- An order's events spread over a few of its neighbours', still in version order.
           ((n - $8::int) + (step - 1) * 3)::float8 / ($9::int - $8::int + 13)
      FROM generate_series($8::int, $9::int) AS n
     CROSS JOIN LATERAL (
       SELECT 'BO-' || lpad(n::text, 8, '0') AS id, 'customer-' || (n % 5000) AS customer,
              jsonb_build_array(
                jsonb_build_object('sku', 'BENCH-' || lpad((n % $3::int)::text, 6, '0'), 'name', 'Bench product', 'quantity', 1,
                                   'unitPrice', jsonb_build_object('amount', 1000, 'currency', 'EUR'), 'lineTotal', jsonb_build_object('amount', 1000, 'currency', 'EUR')),
                jsonb_build_object('sku', 'BENCH-' || lpad(((n + 1) % $3::int)::text, 6, '0'), 'name', 'Bench product', 'quantity', 2,
                                   'unitPrice', jsonb_build_object('amount', 1000, 'currency', 'EUR'), 'lineTotal', jsonb_build_object('amount', 2000, 'currency', 'EUR'))
              ) AS lines,
              jsonb_build_object('amount', 3000, 'currency', 'EUR') AS total
     ) AS o
     CROSS JOIN generate_series(1, 5) AS step
  ) AS e
 ORDER BY e.slot, e.stream_id, e.version`;
