import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADER_LIST } from '../../src/http/security-headers';
import { type FirstHandler, markRoute } from '../../src/http/request-log';
import { viewHeaders, ViewReader } from '../query-api/view-response';
import type { ViewStore } from '../view-store/view-store';
import type { CachedView } from './cached-views';
import { CacheHit, QueryCache, slot } from './query-cache';

/**
 * Answers a GET of one cached document from the cache (in-process hits without an await; Redis
 * hits and misses through the same cache and loader as the Nest route), before express and Nest
 * see the request, with the very headers and body the Nest route gives. Only the plainest
 * requests qualify (no query string, no token, no body, a valid id as it is stored); anything
 * else, an unknown document and any error go on to the Nest routes, which validate, wait for
 * tokens and answer problem+json.
 */
export function fastReads(views: CachedView[], cache: QueryCache, reader: ViewReader, store: ViewStore): FirstHandler {
  return (req, res, correlationId) => {
    const url = req.url;
    if (req.method !== 'GET' || !url || url.includes('?') || url.includes('%')) return false;
    const headers = req.headers;
    if (headers['consistency-token'] !== undefined || headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined)
      return false;
    // Cross-origin calls need the CORS headers express adds; a Content-Encoding is express's 415.
    if (headers.origin !== undefined || headers['content-encoding'] !== undefined) return false;
    // Only public reads: an order needs its reader's token and ownership checked by the Nest route.
    const view = views.find((v) => v.public && url.startsWith(v.prefix));
    const id = view && url.slice(view.prefix.length);
    if (!view || !id || id.includes('/') || !view.valid(id)) return false;
    const hit = cache.localHit(view.projection, slot(view.collection, id), undefined, false);
    if (hit && answer(req, res, correlationId, reader, view, hit)) return true;
    return cache
      .read({ projection: view.projection, collection: view.collection, id }, undefined, () => view.load(store, id))
      .then(
        (read) => !!read && answer(req, res, correlationId, reader, view, read),
        () => false,
      );
  };
}

function answer(
  req: IncomingMessage,
  res: ServerResponse,
  correlationId: string,
  reader: ViewReader,
  view: CachedView,
  hit: CacheHit,
): boolean {
  const meta = reader.metaOf(view.projection, hit);
  if (!meta) return false;
  markRoute(req, view.route);
  const etag = `"${hit.answer.etag}"`;
  // Every header in one writeHead: one set with setHeader first would make Node.js re-set each of them.
  const common = ['X-Correlation-Id', correlationId, 'ETag', etag, ...SECURITY_HEADER_LIST, ...viewHeaders(meta, false).flat()];
  if (matches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common).end();
    return true;
  }
  const body = `{"data":${hit.answer.json},"view":${JSON.stringify(meta)}}`;
  res.writeHead(200, ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), ...common]);
  res.end(body);
  return true;
}

/** If-None-Match as notModified() reads it: a list of tags, weak ones compared as strong, or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}
