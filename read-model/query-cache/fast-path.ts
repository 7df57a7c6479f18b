import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { viewHeaders, ViewReader } from '../query-api/view-response';
import type { CachedView } from './cached-views';
import { QueryCache, slot } from './query-cache';

/**
 * Answers a GET of one cached document straight from the in-process tier, before express and
 * Nest see the request, with the very headers and body the Nest route gives. Only the plainest
 * requests qualify (no query string, no token, no body, an id as it is stored); anything else,
 * and every miss, goes on to the Nest routes, which validate, wait for tokens and answer errors.
 */
export function fastReads(views: CachedView[], cache: QueryCache, reader: ViewReader) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    if (req.method !== 'GET' || !url || url.includes('?') || url.includes('%')) return false;
    const headers = req.headers;
    if (headers['consistency-token'] !== undefined || headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    const view = views.find((v) => url.startsWith(v.prefix));
    const id = view && url.slice(view.prefix.length);
    if (!view || !id || id.includes('/')) return false;
    const hit = cache.localHit(view.projection, slot(view.collection, id), undefined, false);
    const meta = hit && reader.metaOf(view.projection, hit);
    if (!hit || !meta) return false;
    const etag = `"${hit.answer.etag}"`;
    const common: [string, string][] = [['ETag', etag], ...viewHeaders(meta, false)];
    if (matches(headers['if-none-match'], etag)) {
      res.writeHead(304, common.flat()).end();
      return true;
    }
    const body = `{"data":${hit.answer.json},"view":${JSON.stringify(meta)}}`;
    res.writeHead(200, [['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', String(Buffer.byteLength(body))], ...common].flat());
    res.end(body);
    return true;
  };
}

/** Puts `fast` in front of the server's request handler (express). */
export function serveFirst(server: Server, fast: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (fast(req, res)) return;
    for (const handler of handlers) handler(req, res);
  });
}

/** If-None-Match as notModified() reads it: a list of tags, weak ones compared as strong, or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}
