/**
 * Request and response shapes of the command and query APIs: aliases into the types generated from
 * each API's OpenAPI document (src/generated/), so they cannot drift from the server.
 */
import type { components as CommandComponents } from './generated/command-api';
import type { components as QueryComponents, operations as QueryOperations } from './generated/query-api';

type CommandSchemas = CommandComponents['schemas'];
type QuerySchemas = QueryComponents['schemas'];
/** The query parameters of a read, less `after`: the client sends the token as a header. */
type QueryOf<Operation extends keyof QueryOperations> = Omit<NonNullable<QueryOperations[Operation]['parameters']['query']>, 'after'>;
/** The query string carries flags as text; the client takes booleans and writes them out. */
type WithFlags<Query, Flag extends keyof Query> = Omit<Query, Flag> & { [K in Flag]?: boolean };

export type Money = CommandSchemas['MoneyRequest'];
export type RegisterProduct = CommandSchemas['RegisterProductRequest'];
export type UpdateProductDetails = CommandSchemas['UpdateProductDetailsRequest'];
export type AdjustStock = CommandSchemas['AdjustStockRequest'];
export type PlaceOrder = CommandSchemas['PlaceOrderRequest'];

export interface CommandOptions {
  /** The version last seen (a number or an ETag such as `"3"`): 412 when the aggregate moved on. */
  ifMatch?: number | string;
  /** A retry with the same key and request returns the first outcome and writes nothing. */
  idempotencyKey?: string;
  correlationId?: string;
  signal?: AbortSignal;
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

type CommandResultBody = CommandSchemas['CommandResultResponse'];

/** How the server resolved a command sent with an outdated `ifMatch` (the `Conflict-Resolution` header). */
export type ConflictResolution = CommandComponents['headers']['Conflict-Resolution'];

/** What every successful command answers. */
export interface CommandResult extends CommandResultBody {
  /** The new version as an ETag, ready for `ifMatch`. */
  etag: string;
  /**
   * Only when `ifMatch` was outdated and the command's conflict policy applied it anyway: `merged`
   * (your fields did not overlap the changes since, or already held your values) or `rebased`.
   */
  conflictResolution?: ConflictResolution;
}

/** One field an edit and the changes since its `ifMatch` set to different values. */
export type FieldConflict = CommandSchemas['FieldConflict'];

/** The details of a 409 `edit-conflict`: what to show the user so they can decide. */
export interface EditConflict {
  /** The version the edit was based on, and the current one (send it as `ifMatch` to retry after deciding). */
  expectedVersion: number;
  currentVersion: number;
  conflicts: FieldConflict[];
}

export type ViewMeta = QuerySchemas['ViewMetaResponse'];

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
  page: QuerySchemas['PageResponse'];
}

export type Product = QuerySchemas['ProductResponse'];
export type InventoryLevel = QuerySchemas['InventoryLevelResponse'];
export type OrderStatus = Order['status'];
export type OrderLine = QuerySchemas['OrderLineView'];
export type Order = QuerySchemas['OrderSummaryResponse'];
export type CustomerOrder = QuerySchemas['CustomerOrderResponse'];
/** Minor units per currency, e.g. { EUR: 12999 }. */
export type Revenue = DailySales['revenue'];
export type DailySales = QuerySchemas['DailySalesResponse'];
export type DailySalesReport = QueryOperations['getDailySales']['responses'][200]['content']['application/json'];
export type ProjectionStatus = QuerySchemas['ProjectionStatusResponse'];

export type ListProductsQuery = WithFlags<QueryOf<'listProducts'>, 'inStock'>;
export type ListInventoryQuery = WithFlags<QueryOf<'listInventory'>, 'lowStock'>;
export type CustomerOrdersQuery = QueryOf<'listCustomerOrders'>;
export type DailySalesQuery = QueryOf<'getDailySales'>;

export type Health = QuerySchemas['LiveResponse'] | QuerySchemas['ReadyResponse'];
