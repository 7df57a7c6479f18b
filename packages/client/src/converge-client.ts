import { problemFrom } from './problem-error';
import type {
  AdjustStock,
  CommandOptions,
  CommandResult,
  ConditionalReadOptions,
  CustomerOrder,
  CustomerOrdersQuery,
  DailySalesQuery,
  DailySalesReport,
  Health,
  InventoryLevel,
  ListInventoryQuery,
  ListProductsQuery,
  Money,
  NotModified,
  Order,
  Page,
  PlaceOrder,
  Product,
  ProjectionStatus,
  ReadOptions,
  RegisterProduct,
  Resource,
  UpdateProductDetails,
} from './types';

export interface ConvergeClientOptions {
  /** Base URL of the command API, e.g. http://localhost:3000. */
  commandUrl: string;
  /** Base URL of the query API, e.g. http://localhost:3001. */
  queryUrl: string;
  /** Session consistency (default on): remember each command's token, so reads wait for this client's writes. */
  session?: boolean;
  /** Default `Prefer: wait=<seconds>` for reads that send a token. */
  wait?: number;
  /**
   * The bearer token sent as `Authorization` (a JWT, without "Bearer "), or a function that
   * returns the current one (called per request, so a refreshed token is picked up).
   */
  token?: string | (() => string | Promise<string>);
  /** Sent on every request, e.g. `{ 'X-Correlation-Id': 'checkout-7' }`. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;
type Unconditional = ReadOptions & { ifNoneMatch?: undefined };

/**
 * A typed client of both APIs that carries consistency tokens for its caller: every command's
 * token is remembered and sent with later reads, so a read after a write sees that write.
 */
export class ConvergeClient {
  private readonly commandUrl: string;
  private readonly queryUrl: string;
  private readonly fetch: typeof fetch;
  private sessionToken: string | undefined;

  constructor(private readonly options: ConvergeClientOptions) {
    this.commandUrl = options.commandUrl.replace(/\/+$/, '');
    this.queryUrl = options.queryUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The newest token of this client's writes (what reads send by default). */
  get token(): string | undefined {
    return this.sessionToken;
  }

  /** Adopts a token written elsewhere (another client, a page before a reload); the newer one wins. */
  useToken(token: string): void {
    if (!this.sessionToken || newer(token, this.sessionToken)) this.sessionToken = token;
  }

  forgetToken(): void {
    this.sessionToken = undefined;
  }

  registerProduct(product: RegisterProduct, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', '/products', product, options);
  }

  updateProductDetails(sku: string, details: UpdateProductDetails, options?: CommandOptions): Promise<CommandResult> {
    return this.command('PATCH', `/products/${seg(sku)}`, details, options);
  }

  changeProductPrice(sku: string, price: Money, options?: CommandOptions): Promise<CommandResult> {
    return this.command('PUT', `/products/${seg(sku)}/price`, { price }, options);
  }

  discontinueProduct(sku: string, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', `/products/${seg(sku)}/discontinue`, undefined, options);
  }

  receiveStock(sku: string, quantity: number, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', `/inventory/${seg(sku)}/receipts`, { quantity }, options);
  }

  adjustStock(sku: string, adjustment: AdjustStock, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', `/inventory/${seg(sku)}/adjustments`, adjustment, options);
  }

  placeOrder(order: PlaceOrder, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', '/orders', order, options);
  }

  cancelOrder(id: string, reason?: string, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', `/orders/${seg(id)}/cancel`, reason === undefined ? {} : { reason }, options);
  }

  shipOrder(id: string, options?: CommandOptions): Promise<CommandResult> {
    return this.command('POST', `/orders/${seg(id)}/ship`, undefined, options);
  }

  listProducts(query: ListProductsQuery = {}, options?: ReadOptions): Promise<Page<Product>> {
    return this.read('/products', { ...query }, options);
  }

  getProduct(sku: string, options?: Unconditional): Promise<Resource<Product>>;
  getProduct(sku: string, options: ConditionalReadOptions): Promise<Resource<Product> | NotModified>;
  getProduct(sku: string, options?: ReadOptions & { ifNoneMatch?: string }) {
    return this.resource<Product>(`/products/${seg(sku)}`, options);
  }

  listInventory(query: ListInventoryQuery = {}, options?: ReadOptions): Promise<Page<InventoryLevel>> {
    return this.read('/inventory', { ...query }, options);
  }

  getInventory(sku: string, options?: Unconditional): Promise<Resource<InventoryLevel>>;
  getInventory(sku: string, options: ConditionalReadOptions): Promise<Resource<InventoryLevel> | NotModified>;
  getInventory(sku: string, options?: ReadOptions & { ifNoneMatch?: string }) {
    return this.resource<InventoryLevel>(`/inventory/${seg(sku)}`, options);
  }

  getOrder(id: string, options?: Unconditional): Promise<Resource<Order>>;
  getOrder(id: string, options: ConditionalReadOptions): Promise<Resource<Order> | NotModified>;
  getOrder(id: string, options?: ReadOptions & { ifNoneMatch?: string }) {
    return this.resource<Order>(`/orders/${seg(id)}`, options);
  }

  listCustomerOrders(customerId: string, query: CustomerOrdersQuery = {}, options?: ReadOptions): Promise<Page<CustomerOrder>> {
    return this.read(`/customers/${seg(customerId)}/orders`, { ...query }, options);
  }

  getDailySales(query: DailySalesQuery, options?: ReadOptions): Promise<DailySalesReport> {
    return this.read('/reports/daily-sales', { ...query }, options);
  }

  /** Every projection's position and lag (never waits for a token). */
  async listProjections(options: { signal?: AbortSignal } = {}): Promise<ProjectionStatus[]> {
    const response = await this.send(this.queryUrl, 'GET', '/projections', { signal: options.signal });
    return ((await response.json()) as { data: ProjectionStatus[] }).data;
  }

  /** `live` answers while the process runs; `ready` throws a 503 problem while a dependency is down. */
  async health(api: 'command' | 'query', check: 'live' | 'ready'): Promise<Health> {
    const response = await this.send(api === 'command' ? this.commandUrl : this.queryUrl, 'GET', `/health/${check}`, {});
    return (await response.json()) as Health;
  }

  /** The API's OpenAPI 3 document. */
  async openApiDocument(api: 'command' | 'query'): Promise<Record<string, unknown>> {
    const response = await this.send(api === 'command' ? this.commandUrl : this.queryUrl, 'GET', '/openapi.json', {});
    return (await response.json()) as Record<string, unknown>;
  }

  private async command(method: string, path: string, body: unknown, options: CommandOptions = {}): Promise<CommandResult> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers['If-Match'] = typeof options.ifMatch === 'number' ? `"${options.ifMatch}"` : options.ifMatch;
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    if (options.correlationId) headers['X-Correlation-Id'] = options.correlationId;
    const response = await this.send(this.commandUrl, method, path, { body, headers, signal: options.signal });
    const result = (await response.json()) as Omit<CommandResult, 'etag'>;
    if (this.options.session !== false) this.useToken(result.token);
    const resolution = response.headers.get('conflict-resolution') as CommandResult['conflictResolution'] | null;
    return {
      ...result,
      etag: response.headers.get('etag') ?? `"${result.version}"`,
      ...(resolution && { conflictResolution: resolution }),
    };
  }

  private async read<T>(path: string, query: Query, options: ReadOptions & { ifNoneMatch?: string } = {}): Promise<T> {
    const response = await this.get(path, query, options);
    return (await response.json()) as T;
  }

  private async resource<T>(path: string, options: ReadOptions & { ifNoneMatch?: string } = {}): Promise<Resource<T> | NotModified> {
    const response = await this.get(path, {}, options);
    const etag = response.headers.get('etag') ?? '';
    if (response.status === 304) return { notModified: true, etag };
    const body = (await response.json()) as Omit<Resource<T>, 'etag' | 'notModified'>;
    return { ...body, notModified: false, etag };
  }

  private get(path: string, query: Query, options: ReadOptions & { ifNoneMatch?: string }): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = options.after === false ? undefined : (options.after ?? this.sessionToken);
    if (token) {
      headers['Consistency-Token'] = token;
      const wait = options.wait ?? this.options.wait;
      if (wait !== undefined) headers.Prefer = `wait=${wait}`;
    }
    if (options.ifNoneMatch) headers['If-None-Match'] = options.ifNoneMatch;
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null) search.set(name, String(value));
    const suffix = search.toString() ? `?${search.toString()}` : '';
    return this.send(this.queryUrl, 'GET', `${path}${suffix}`, { headers, signal: options.signal });
  }

  private async send(
    base: string,
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...this.options.headers,
      ...init.headers,
    };
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(`${base}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
    if (response.status >= 400) throw await problemFrom(response);
    return response;
  }
}

const seg = (value: string) => encodeURIComponent(value);

/**
 * Tokens order like the log: by committing transaction, then position. A command that changed
 * nothing answers an older token, which must not roll the session back.
 */
function newer(candidate: string, current: string): boolean {
  const a = place(candidate);
  const b = place(current);
  if (!a || !b) return true;
  return a.txId !== b.txId ? a.txId > b.txId : a.position > b.position;
}

function place(token: string): { txId: bigint; position: number } | undefined {
  try {
    // atob, not Buffer: the client also runs in browsers.
    const json = atob(token.replace(/-/g, '+').replace(/_/g, '/'));
    const [txId, position] = JSON.parse(json) as [string, number];
    return { txId: BigInt(txId), position };
  } catch {
    return undefined;
  }
}
