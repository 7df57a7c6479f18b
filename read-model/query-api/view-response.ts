import { NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConsistencyToken, decodeToken, orderKey, parseOrderKey } from '../../src/contracts';
import { validationProblem } from '../../src/http/problem';
import type { CacheHit, CachedAnswer, CachedResource, Load, QueryCache } from '../query-cache/query-cache';
import type { ViewSync } from '../query-cache/view-sync';
import type { Checkpoint, FilterCondition, ViewStore } from '../view-store/view-store';
import { DEFAULT_PAGE_SIZE } from './consistency.query';
import type { ViewFreshness } from './freshness';
import { noQueryMetrics, type QueryCollector } from './query-metrics';

/** What every query answer says about the view it was read from. */
export interface ViewMeta {
  projection: string;
  /** Global position of the last event the view has applied (0: none yet). */
  position: number;
  /** Events published but not yet applied, and how old the view's newest event is while any are. */
  lag: { events: number; ms: number };
  updatedAt: string | null;
  /** True when a consistency token was given and the view had not applied it within the wait. */
  stale: boolean;
  /** With a token that was not reached: how long ago that write committed. */
  staleByMs?: number;
}

export const DEFAULT_WAIT_MS = 2_000;
export const MAX_WAIT_MS = 10_000;

/** How often the consumer lag shown on cached answers is refreshed (the same bound as ViewFreshness's). */
const LAG_REFRESH_MS = 200;

/**
 * Reads a view for a request: honours a consistency token (Consistency-Token header or
 * ?after=) by waiting, bounded, until the view has applied that write, then reads and
 * describes the view's freshness in the body (`view`) and in headers. Single documents and
 * first pages go through the read cache when one is given and can serve the view.
 */
export class ViewReader {
  private readonly lags = new Map<string, { at: number; lag?: { events: number; recordedAt: number }; refreshing?: Promise<void> }>();

  constructor(
    private readonly freshness: ViewFreshness,
    private readonly cache?: QueryCache,
    private readonly sync?: Pick<ViewSync, 'coveredBy'>,
    private readonly metrics: QueryCollector = noQueryMetrics,
  ) {}

  async read<T>(
    req: Request,
    res: Response,
    projection: string,
    fetch: () => Promise<T>,
    waited?: { token?: ConsistencyToken; reached: boolean },
  ): Promise<{ result: T; view: ViewMeta }> {
    const { token, reached } = waited ?? (await this.awaitToken(req, res, projection));
    const [result, checkpoint] = await Promise.all([fetch(), this.freshness.checkpoint(projection)]);
    const now = Date.now();
    const events = await this.freshness.pendingEvents(projection, checkpoint);
    const recorded = checkpoint?.eventRecordedAt ? new Date(checkpoint.eventRecordedAt).getTime() : now;
    const view: ViewMeta = {
      projection,
      position: checkpoint?.position ?? 0,
      lag: { events, ms: events > 0 ? Math.max(0, now - recorded) : 0 },
      updatedAt: checkpoint?.updatedAt ? new Date(checkpoint.updatedAt).toISOString() : null,
      stale: !reached,
      ...(!reached && token && { staleByMs: Math.max(0, now - token.at) }),
    };
    setViewHeaders(res, view, !!token);
    return { result, view };
  }

  /**
   * One document (or a first page, id FIRST_PAGE) through the read cache: a token read is
   * answered from an entry only if it is valid at the token's position; an entry's `view`
   * describes the position it is known valid at, never more. Null: not found.
   */
  async cached(req: Request, res: Response, resource: CachedResource, load: Load): Promise<{ answer: CachedAnswer; view: ViewMeta } | null> {
    if (!this.cache) return this.uncached(req, res, resource.projection, load);
    const { token, reached } = await this.awaitToken(req, res, resource.projection);
    // A token not reached in time: the store answers, marked stale, as without a cache.
    const hit = reached ? await this.cache.read(resource, token && orderKey(token.txId, token.position), load) : undefined;
    if (hit === undefined) return this.uncached(req, res, resource.projection, load, { token, reached });
    if (hit === null) return null;
    const view = this.metaOf(resource.projection, hit) ?? (await this.refreshLag(resource.projection), this.metaOf(resource.projection, hit)!);
    setViewHeaders(res, view, !!token);
    return { answer: hit.answer, view };
  }

  /** The `view` of a cached answer without waiting (the fast path); undefined until the lag was read once. */
  metaOf(projection: string, hit: Pick<CacheHit, 'validAt' | 'knownAt'>): ViewMeta | undefined {
    const known = this.lags.get(projection);
    if (!known || Date.now() - known.at > LAG_REFRESH_MS) void this.refreshLag(projection);
    if (!known?.lag) return undefined;
    const { events, recordedAt } = known.lag;
    return {
      projection,
      position: parseOrderKey(hit.validAt).position,
      lag: { events, ms: events > 0 ? Math.max(0, Date.now() - recordedAt) : 0 },
      updatedAt: new Date(hit.knownAt).toISOString(),
      stale: false,
    };
  }

  /** Once this instance's cache has applied every notice up to these checkpoints (GET /projections). */
  async coveredBy(checkpoints: Checkpoint[]): Promise<void> {
    await this.sync?.coveredBy(checkpoints);
  }

  private async uncached(req: Request, res: Response, projection: string, load: Load, waited?: { token?: ConsistencyToken; reached: boolean }) {
    const { result, view } = await this.read(req, res, projection, load, waited);
    return result && { answer: result.answer, view };
  }

  private async awaitToken(req: Request, res: Response, projection: string): Promise<{ token?: ConsistencyToken; reached: boolean }> {
    const token = tokenOf(req);
    if (!token) return { reached: true };
    const waitMs = preferredWait(req);
    res.setHeader('Preference-Applied', `wait=${waitMs / 1000}`);
    const started = performance.now();
    const reached = await this.freshness.waitFor(projection, token, waitMs);
    this.metrics.tokenWaited(projection, (performance.now() - started) / 1000, reached);
    return { token, reached };
  }

  private refreshLag(projection: string): Promise<void> {
    const known = this.lags.get(projection) ?? { at: 0 };
    this.lags.set(projection, known);
    known.at = Date.now();
    known.refreshing ??= (async () => {
      try {
        const checkpoint = await this.freshness.checkpoint(projection);
        const events = await this.freshness.pendingEvents(projection, checkpoint);
        const recordedAt = checkpoint?.eventRecordedAt ? new Date(checkpoint.eventRecordedAt).getTime() : Date.now();
        known.lag = { events, recordedAt };
      } catch {
        known.lag ??= { events: 0, recordedAt: Date.now() };
      } finally {
        known.refreshing = undefined;
      }
    })();
    return known.refreshing;
  }
}

/** View-Position, View-Lag-Events, View-Lag-Ms (and View-Stale for token reads): what every answer says. */
export function viewHeaders(view: ViewMeta, withToken: boolean): [string, string][] {
  const headers: [string, string][] = [
    ['View-Position', String(view.position)],
    ['View-Lag-Events', String(view.lag.events)],
    ['View-Lag-Ms', String(view.lag.ms)],
  ];
  if (withToken) headers.push(['View-Stale', String(view.stale)]);
  return headers;
}

/** Takes back the View-* headers a read set, for an answer that must not say what the view holds (a 404 for another's order). */
export function clearViewHeaders(res: Response): void {
  // Every View-* header viewHeaders() writes, without a second list of their names.
  for (const name of res.getHeaderNames()) if (name.startsWith('view-')) res.removeHeader(name);
}

function setViewHeaders(res: Response, view: ViewMeta, withToken: boolean): void {
  for (const [name, value] of viewHeaders(view, withToken)) res.setHeader(name, value);
}

/** A document as a cached answer: its JSON made once, its version for the ETag. */
export function answerOf(data: unknown, version: unknown): CachedAnswer {
  return { etag: typeof version === 'number' || typeof version === 'string' ? String(version) : '', json: JSON.stringify(data), data };
}

function tokenOf(req: Request): ConsistencyToken | undefined {
  const header = req.headers['consistency-token'];
  const fromQuery = typeof req.query.after === 'string' ? req.query.after : undefined;
  const value = (Array.isArray(header) ? header[0] : header) ?? fromQuery;
  if (value === undefined) return undefined;
  const token = decodeToken(value);
  if (!token) {
    const field = header !== undefined ? 'header Consistency-Token' : 'after';
    throw validationProblem([{ field, messages: ['not a consistency token returned by a command'] }]);
  }
  return token;
}

/**
 * `Prefer: wait=N` bounds the wait: N whole seconds (RFC 7240's delta-seconds), at most
 * MAX_WAIT_MS, 2 s when absent. Anything else (`1e9`, `0x10`, `0.5`, `abc`) is a 400.
 */
export function preferredWait(req: Pick<Request, 'headers'>): number {
  const prefer = String(req.headers.prefer ?? '');
  const match = /(?:^|[,;\s])wait=([^,;\s]*)/i.exec(prefer);
  if (!match) return DEFAULT_WAIT_MS;
  if (!/^\d{1,6}$/.test(match[1])) {
    throw validationProblem([{ field: 'header Prefer', messages: ['wait must be a whole number of seconds, e.g. wait=2'] }]);
  }
  return Math.min(MAX_WAIT_MS, Number(match[1]) * 1000);
}

/** Answers 304 when If-None-Match names the current ETag; otherwise sets the ETag. */
export function notModified(req: Request, res: Response, version: unknown): boolean {
  const etag = `"${String(version)}"`;
  res.setHeader('ETag', etag);
  const ifNoneMatch = req.headers['if-none-match'];
  if (!ifNoneMatch) return false;
  const tags = String(ifNoneMatch).split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(etag) && !tags.includes('*')) return false;
  res.status(304);
  return true;
}

export function notFound(what: string): NotFoundException {
  return new NotFoundException(`${what} not found`);
}

/** A page request checked up front (a bad cursor is a 400 before any wait). */
export interface PageRequest {
  limit: number;
  sortKey: string;
  sort: { field: string; direction: 'asc' | 'desc' };
  after?: { value: string | number | boolean | null; id: string };
}

export function pageRequest(
  query: { limit?: number; cursor?: string },
  sortKey: string,
  sort: PageRequest['sort'],
): PageRequest {
  const after = query.cursor ? decodeCursor(query.cursor, sortKey) : undefined;
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, sortKey, sort, after };
}

/** One page of a view: a document more than asked tells whether there is a next page. */
export async function findPage(store: ViewStore, collection: string, request: PageRequest, filter: FilterCondition[]) {
  const { limit, sort, sortKey, after } = request;
  const found = await store.find(collection, { filter, sort, after, limit: limit + 1 });
  const docs = found.slice(0, limit);
  const last = docs[docs.length - 1];
  const nextCursor = found.length > limit && last ? encodeCursor(sortKey, valueAt(last.doc, sort.field), last.id) : null;
  return { docs: docs.map((d) => d.doc), page: { limit, nextCursor } };
}

/** Opaque keyset cursor bound to the sort it was made for. */
export function encodeCursor(sort: string, value: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sort, value, id])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string): { value: string | number | boolean | null; id: string } {
  try {
    const [madeFor, value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const scalar = value === null || ['string', 'number', 'boolean'].includes(typeof value);
    // Strings go to the store as they are: NUL or broken UTF-16 would be a store error, not a page.
    const storable = (s: unknown) => typeof s !== 'string' || (s.isWellFormed() && !s.includes('\u0000'));
    if (madeFor === sort && scalar && typeof id === 'string' && storable(value) && storable(id)) return { value: value as string | number | boolean | null, id };
  } catch {
    // fall through to the validation error
  }
  throw validationProblem([{ field: 'cursor', messages: ['cursor is not one this query returned (or the sort changed)'] }]);
}

/** Reads a dotted path (e.g. price.amount) from a view document. */
export function valueAt(doc: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
}
