import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type pino from 'pino';
import { Histogram, type Registry } from 'prom-client';
import { type Logger, logContext } from '../logger';
import { problemType } from './problem';

const ROUTE = Symbol('route');
type Routed = IncomingMessage & { [ROUTE]?: string; route?: { path?: string }; baseUrl?: string };

/** Names the route of a request answered outside express (the query API's cached fast path). */
export function markRoute(req: IncomingMessage, route: string): void {
  (req as Routed)[ROUTE] = route;
}

/** The route pattern (`/products/:sku`), never the raw URL: ids would make every URL a new time series. */
function routeOf(req: IncomingMessage): string {
  const routed = req as Routed;
  if (routed[ROUTE]) return routed[ROUTE];
  if (routed.route?.path) return `${routed.baseUrl ?? ''}${routed.route.path}`;
  return 'unmatched';
}

/** What a caller may send as X-Correlation-Id: it goes into logs and event metadata, so it is bounded. */
const CORRELATION_ID = /^[\x20-\x7e]{1,128}$/;

/** The caller's id, or a new one; `refused` when the caller's is not one we keep (answered 400). */
function correlationIdOf(req: IncomingMessage): { correlationId: string; refused: boolean } {
  const value = req.headers['x-correlation-id'];
  const given = Array.isArray(value) ? value[0] : value;
  if (!given) return { correlationId: randomUUID(), refused: false };
  return CORRELATION_ID.test(given) ? { correlationId: given, refused: false } : { correlationId: randomUUID(), refused: true };
}

function refuseCorrelationId(req: IncomingMessage, res: ServerResponse): void {
  const message = 'must be 1-128 printable ASCII characters';
  // The shape the command routes' own header checks answer (write-model/shared/command-http.ts).
  const body = JSON.stringify({
    type: problemType('validation'),
    title: 'Invalid request',
    status: 400,
    detail: `X-Correlation-Id: ${message}`,
    errors: [{ field: 'header X-Correlation-Id', messages: [message] }],
  });
  res.writeHead(400, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers some requests before the server's own handlers see them (the query API's cache fast
 * path): true when it answered, with `correlationId` among its headers; false to pass the request on.
 */
export type FirstHandler = (req: IncomingMessage, res: ServerResponse, correlationId: string) => boolean | Promise<boolean>;

/** A request answered in full: its method, route pattern (or `unmatched`) and status. */
export interface AnsweredRequest {
  method: string;
  route: string;
  status: number;
}

/**
 * Wraps the server's request handling (express, and the `first` handler in front of it): every
 * request gets a correlation id (X-Correlation-Id, accepted or generated, echoed, and seen by
 * the handlers in the same header), every log line written while serving it carries that id,
 * one line says how it ended, its duration is observed by route and status, and `answered`
 * hears of it. Call it after anything else that takes over the server's 'request' listeners.
 *
 * Written here rather than with pino-http, which built a child logger per request and serialized
 * the request's headers into it, logged or not: with the rest of its per-request work it was
 * most of what a cached query cost beyond Node.js's own HTTP handling.
 */
export function observeRequests(
  server: Server,
  options: { logger: Logger; registry: Registry; first?: FirstHandler; answered?: (answer: AnsweredRequest) => void },
): void {
  const { logger, first, answered } = options;
  const duration = new Histogram({
    name: 'converge_http_request_duration_seconds',
    help: 'time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [options.registry],
  });
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const rest = (req: IncomingMessage, res: ServerResponse, correlationId: string) => {
    res.setHeader('X-Correlation-Id', correlationId);
    for (const handler of handlers) handler(req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { correlationId, refused } = correlationIdOf(req);
    // Handlers read the id from the header (a command puts it into its events' metadata).
    req.headers['x-correlation-id'] = correlationId;
    const started = performance.now();
    // 'close' follows 'finish' on every response, and comes alone when the client went away first.
    res.once('close', () => {
      const ms = performance.now() - started;
      const status = res.statusCode;
      const route = routeOf(req);
      if (res.writableFinished) {
        const method = req.method ?? 'GET';
        duration.observe({ method, route, status: String(status) }, ms / 1000);
        answered?.({ method, route, status });
      }
      const level = levelOf(req, status);
      if (!logger.isLevelEnabled(level)) return;
      const durationMs = Math.round(ms);
      const line = {
        method: req.method,
        route,
        url: req.url,
        status,
        durationMs,
        correlationId,
        ...(!res.writableFinished && { aborted: true }),
      };
      logger[level](line, `${req.method} ${req.url} ${status} ${durationMs} ms`);
    });
    logContext.run({ correlationId }, () => {
      if (refused) {
        res.setHeader('X-Correlation-Id', correlationId);
        return refuseCorrelationId(req, res);
      }
      const answered = first?.(req, res, correlationId) ?? false;
      if (answered === true) return;
      if (answered === false) return rest(req, res, correlationId);
      answered.then(
        (done) => done || rest(req, res, correlationId),
        () => rest(req, res, correlationId),
      );
    });
  });
}

/** Dependencies away (503) are warnings, said once by the process that noticed; probes and scrapes every few seconds are debug. */
function levelOf(req: IncomingMessage, status: number): pino.Level {
  if (status >= 500) return status === 503 ? 'warn' : 'error';
  return /^\/(health\/|metrics)/.test(req.url ?? '') ? 'debug' : 'info';
}
