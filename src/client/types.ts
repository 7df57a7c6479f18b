/** Request and response shapes of the command and query APIs (see /openapi.json of each). */

export interface Money {
  /** Integer minor units (cents). */
  amount: number;
  /** ISO 4217 code, e.g. EUR. */
  currency: string;
}

export interface RegisterProduct {
  sku: string;
  name: string;
  description?: string;
  price: Money;
}

export interface UpdateProductDetails {
  name?: string;
  description?: string;
}

export interface AdjustStock {
  /** Signed: negative removes stock. */
  quantity: number;
  reason: string;
}

export interface PlaceOrder {
  customerId: string;
  lines: { sku: string; quantity: number }[];
  /** Simulator tokens: tok_approve, tok_decline, tok_timeout, tok_flaky. */
  paymentToken: string;
}

export interface CommandOptions {
  /** The version last seen (a number or an ETag such as `"3"`): 412 when the aggregate moved on. */
  ifMatch?: number | string;
  /** A retry with the same key and request returns the first outcome and writes nothing. */
  idempotencyKey?: string;
  correlationId?: string;
  actor?: string;
  signal?: AbortSignal;
}

/** What every successful command answers. */
export interface CommandResult {
  id: string;
  version: number;
  /** Pass to reads as `after` (the client does so by itself for its own session). */
  token: string;
  /** The new version as an ETag, ready for `ifMatch`. */
  etag: string;
}

export interface ReadOptions {
  /** A consistency token to wait for; `false` sends none; by default the session's newest token. */
  after?: string | false;
  /** Seconds to wait for the token at most (`Prefer: wait=`); the server's default is 2, its maximum 10. */
  wait?: number;
  signal?: AbortSignal;
}

export interface ConditionalReadOptions extends ReadOptions {
  /** An ETag read before: the answer is `{ notModified: true }` while it is current. */
  ifNoneMatch: string;
}

export interface ViewMeta {
  projection: string;
  position: number;
  lag: { events: number; ms: number };
  updatedAt: string | null;
  /** True when the awaited token was not reached within the wait: the data may predate your write. */
  stale: boolean;
  staleByMs?: number;
}

export interface ViewResult<T> {
  data: T;
  view: ViewMeta;
}

export interface Resource<T> extends ViewResult<T> {
  notModified: false;
  etag: string;
}

export interface NotModified {
  notModified: true;
  etag: string;
}

export interface Page<T> extends ViewResult<T[]> {
  page: { limit: number; nextCursor: string | null };
}

export type OrderStatus = 'pending' | 'stock_reserved' | 'paid' | 'confirmed' | 'shipped' | 'rejected' | 'cancelled';

export interface Product {
  sku: string;
  name: string;
  description: string;
  price: Money;
  status: 'active' | 'discontinued';
  available: number;
  version: number;
  updatedAt: string;
}

export interface InventoryLevel {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
  lowStock: boolean;
  movements: number;
  version: number;
  updatedAt: string;
}

export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
}

export interface Order {
  id: string;
  customerId: string;
  lines: OrderLine[];
  total: Money;
  status: OrderStatus;
  statusReason: string | null;
  timeline: { at: string; event: string; status: OrderStatus; reason?: string }[];
  payment: { status: 'none' | 'authorized' | 'declined' | 'captured' | 'refunded'; authorizationId?: string; amount?: Money };
  placedAt: string;
  version: number;
}

export interface CustomerOrder {
  id: string;
  customerId: string;
  status: OrderStatus;
  total: Money;
  lineCount: number;
  units: number;
  placedAt: string;
  updatedAt: string;
}

/** Minor units per currency, e.g. { EUR: 12999 }. */
export type Revenue = Record<string, number>;

export interface DailySales {
  day: string;
  orders: number;
  units: number;
  revenue: Revenue;
  cancelledOrders: number;
  skus: { sku: string; units: number; revenue: Revenue }[];
}

export interface DailySalesReport extends ViewResult<DailySales[]> {
  totals: { orders: number; units: number; revenue: Revenue };
}

export interface ProjectionStatus {
  projection: string;
  position: number;
  lag: { events: number; ms: number };
  updatedAt: string | null;
}

export interface ListProductsQuery {
  status?: 'active' | 'discontinued';
  /** Text in the name, case-insensitive. */
  q?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
  sort?: 'name' | '-name' | 'price' | '-price';
  limit?: number;
  cursor?: string;
}

export interface ListInventoryQuery {
  lowStock?: boolean;
  limit?: number;
  cursor?: string;
}

export interface CustomerOrdersQuery {
  status?: OrderStatus;
  limit?: number;
  cursor?: string;
}

export interface DailySalesQuery {
  /** First UTC day, inclusive: YYYY-MM-DD. */
  from: string;
  /** Last UTC day, inclusive. */
  to: string;
}

export type Health = { status: 'live' } | { status: 'ready'; checks: Record<string, 'up' | 'down'> };
