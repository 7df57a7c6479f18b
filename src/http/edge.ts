import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyaddr from 'proxy-addr';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { problemType, sendProblem } from './problem';

/** Deeper JSON than this is refused before validation (whose recursion it would otherwise exhaust). */
export const MAX_JSON_DEPTH = 32;

/** Bodies arrive as sent: a compressed body would be inflated beyond the size checked (415 for any coding). */
export function refuseContentEncoding(req: Request, res: Response, next: NextFunction): void {
  const coding = req.headers['content-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
    return sendProblem(req, res, {
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: `Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not accepted: send the body uncompressed`,
    });
  }
  next();
}

/**
 * A declared Content-Length over the limit is refused before a byte of the body is read, and
 * the connection closed: waiting for a body that never comes would hold the request open.
 */
export function refuseDeclaredOversize(limitBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && (!/^\d+$/.test(declared) || Number(declared) > limitBytes)) {
      res.setHeader('Connection', 'close');
      return sendProblem(req, res, {
        type: problemType('payload-too-large'),
        title: 'Request body too large',
        status: 413,
        detail: `the body exceeds ${limitBytes} bytes`,
      });
    }
    next();
  };
}

/** How deep a parsed JSON value nests (iteratively: a deep value must not exhaust the stack here either). */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function limitJsonDepth(req: Request, res: Response, next: NextFunction): void {
  if (jsonDepth(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return sendProblem(req, res, {
      type: problemType('validation'),
      title: 'Invalid request',
      status: 400,
      detail: `the body nests deeper than ${MAX_JSON_DEPTH} levels`,
      errors: [{ field: 'body', messages: [`must not nest deeper than ${MAX_JSON_DEPTH} levels`] }],
    });
  }
  next();
}

export interface RateLimit {
  /** Requests per client address per window; 0 turns limiting off. */
  requests: number;
  windowSeconds: number;
  /**
   * The proxies in front of the API (TRUST_PROXY): a request from one of them is counted against
   * the client X-Forwarded-For names, read from the right up to the first address not trusted.
   * Empty: the connecting address, whatever the header says (a client could forge it).
   */
  trustProxy?: string[];
}

/** The address a request is counted against: the connecting one, or the client behind trusted proxies. */
export function clientAddress(trustProxy: string[] = []): (req: IncomingMessage) => string {
  if (!trustProxy.length) return (req) => req.socket.remoteAddress ?? 'unknown';
  const trusted = proxyaddr.compile(trustProxy);
  return (req) => proxyaddr(req, trusted);
}

/**
 * Puts the process's edge in front of every request handler of the server (express and the query
 * API's cache fast path alike): per-client rate limiting with 429 and Retry-After, and an answer
 * to CONNECT (Node.js would otherwise drop the connection silently). Call it after observeRequests.
 */
export function guardServer(server: Server, rateLimit: RateLimit): void {
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({
      type: problemType('method-not-allowed'),
      title: 'Method not allowed',
      status: 405,
      detail: 'CONNECT is not supported',
      instance: req.url,
    });
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  if (rateLimit.requests === 0) return;
  const limiter = new RateLimiterMemory({ points: rateLimit.requests, duration: rateLimit.windowSeconds });
  const client = clientAddress(rateLimit.trustProxy);
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const next = (req: IncomingMessage, res: ServerResponse) => {
    for (const handler of handlers) handler(req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    limiter.consume(client(req)).then(
      () => next(req, res),
      (refused: { msBeforeNext?: number }) => tooMany(req, res, Math.max(1, Math.ceil((refused.msBeforeNext ?? 1000) / 1000))),
    );
  });
}

function tooMany(req: IncomingMessage, res: ServerResponse, retryAfter: number): void {
  const body = JSON.stringify({
    type: problemType('rate-limited'),
    title: 'Too many requests',
    status: 429,
    detail: `too many requests from this client; retry after ${retryAfter} s`,
    instance: req.url,
  });
  res.writeHead(429, {
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': String(retryAfter),
  });
  res.end(body);
}
