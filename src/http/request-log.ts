import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type pino from 'pino';
import { pinoHttp } from 'pino-http';
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
 * Wraps the server's request handling (express, and the fast path when it is in front): every
 * request gets a correlation id (X-Correlation-Id, accepted or generated, echoed, and seen by
 * the handlers in the same header), every log line written while serving it carries that id,
 * one pino-http line says how it ended, and its duration is observed by route and status.
 * Call it after anything else that takes over the server's 'request' listeners.
 */
export function observeRequests(server: Server, options: { logger: Logger; registry: Registry }): void {
  const duration = new Histogram({
    name: 'converge_http_request_duration_seconds',
    help: 'time to answer an HTTP request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [options.registry],
  });
  const log = pinoHttp({
    logger: options.logger,
    genReqId: (req) => req.headers['x-correlation-id'] as string,
    quietResLogger: true,
    // Probes and scrapes every few seconds would drown the requests that matter.
    customLogLevel: (req, res, error): pino.Level => {
      // A 503 is a dependency that is away (said once by the process that noticed), not a bug.
      if (error || (res.statusCode >= 500 && res.statusCode !== 503)) return 'error';
      if (res.statusCode === 503) return 'warn';
      return /^\/(health\/|metrics)/.test(req.url ?? '') ? 'debug' : 'info';
    },
    customSuccessObject: (req, res, value: { responseTime?: number }) => line(req, res, value.responseTime),
    // pino-http makes an Error of any 5xx; a 503 (a dependency away) is an answer, not a failure with a stack.
    customErrorObject: (req, res, error, value: { responseTime?: number }) =>
      res.statusCode === 503 ? line(req, res, value.responseTime) : { ...line(req, res, value.responseTime), err: error },
    customSuccessMessage: (req, res, ms) => `${req.method} ${req.url} ${res.statusCode} ${ms} ms`,
    customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
  });
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { correlationId, refused } = correlationIdOf(req);
    // Handlers read the id from the header (a command puts it into its events' metadata).
    req.headers['x-correlation-id'] = correlationId;
    res.setHeader('X-Correlation-Id', correlationId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ method: req.method ?? 'GET', route: routeOf(req), status: String(res.statusCode) }, seconds);
    });
    logContext.run({ correlationId }, () => {
      log(req, res);
      if (refused) return refuseCorrelationId(req, res);
      for (const handler of handlers) handler(req, res);
    });
  });
}

function line(req: IncomingMessage, res: ServerResponse, durationMs?: number) {
  return {
    method: req.method,
    route: routeOf(req),
    url: req.url,
    status: res.statusCode,
    durationMs,
    correlationId: req.headers['x-correlation-id'],
  };
}
