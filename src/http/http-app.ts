import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Authenticator } from '../identity/authenticator';
import type { Logger } from '../logger';
import { AccessGuard } from './access';
import { OpenApiInfo, setupOpenApi } from './openapi';
import { bodyParserProblem, ProblemFilter, ProblemMapper, problemType, sendProblem } from './problem';
import { unavailableProblem } from './unavailable';
import { limitJsonDepth, refuseContentEncoding, refuseDeclaredOversize } from './edge';
import { securityHeaders } from './security-headers';
import { reservedKey, strictValidationPipe } from './validation';

export interface HttpAppOptions {
  logger: Logger;
  mappers?: ProblemMapper[];
  /** Title and description of the OpenAPI document served at /openapi.json (UI at /docs). */
  openapi: OpenApiInfo;
  /** The store the routes need: while it is unreachable they answer 503 naming it. */
  store?: 'write store' | 'read store';
  /** Verifies the bearer tokens every non-public route needs. */
  authenticator: Authenticator;
  /** Origins allowed cross-origin calls (CORS_ORIGINS); none: no CORS headers at all. */
  corsOrigins?: string[];
}

/** Largest accepted JSON body (64 kB). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** The express settings both APIs share: strict JSON, flat query strings, problem+json errors. */
export async function createHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    logger: false,
    bodyParser: false,
    abortOnError: false,
  });
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // ETags are the aggregate versions the handlers set, never hashes of error bodies.
  express.set('etag', false);
  // Flat query strings: `price[$gt]=1` stays a literal, unknown parameter name instead of an object.
  express.set('query parser', 'simple');
  app.use(securityHeaders);
  if (options.corsOrigins?.length) {
    const any = options.corsOrigins.includes('*');
    app.enableCors({
      origin: any ? '*' : options.corsOrigins,
      exposedHeaders: [
        'ETag',
        'Consistency-Token',
        'Conflict-Resolution',
        'Location',
        'Retry-After',
        'WWW-Authenticate',
        'X-Correlation-Id',
      ],
      maxAge: 600,
    });
  }
  app.use(requireJsonBody);
  app.use(refuseContentEncoding);
  app.use(refuseDeclaredOversize(BODY_LIMIT_BYTES));
  app.use(json({ limit: BODY_LIMIT_BYTES, strict: true, inflate: false }));
  app.use(bodyErrors);
  app.use(limitJsonDepth);
  app.use(rejectReservedKeys);
  app.useGlobalGuards(new AccessGuard(app.get(Reflector), options.authenticator));
  app.useGlobalPipes(strictValidationPipe());
  const mappers = [...(options.mappers ?? []), ...(options.store ? [unavailableProblem(options.store)] : [])];
  app.useGlobalFilters(new ProblemFilter(options.logger, mappers));
  // Before init: Nest's catch-all 404 handler is registered then, and would shadow these routes.
  setupOpenApi(app, options.openapi);
  return app;
}

/**
 * Stops accepting connections and waits for the requests in flight. Node.js leaves an idle
 * keep-alive socket open until its keepAliveTimeout, which would hold close() up: each one
 * is closed as soon as it is idle.
 */
export async function closeHttpApp(app: INestApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
  }
}

/** A request with a body must say it is JSON (415 otherwise). */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json') && !req.is('application/*+json')) {
    return sendProblem(req, res, {
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: `expected application/json, got ${req.headers['content-type'] ?? 'no content type'}`,
    });
  }
  next();
}

/** Answers malformed, oversized or mis-encoded bodies before any route sees them. */
function bodyErrors(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const problem = bodyParserProblem(error);
  if (problem) return sendProblem(req, res, problem);
  next(error);
}

/** `__proto__`, `constructor` and `prototype` are never field names here: refuse them up front. */
function rejectReservedKeys(req: Request, res: Response, next: NextFunction): void {
  for (const [where, value] of [
    ['body', req.body],
    ['query', req.query],
  ] as const) {
    const key = reservedKey(value);
    if (key) {
      return sendProblem(req, res, {
        type: problemType('validation'),
        title: 'Invalid request',
        status: 400,
        detail: `${key}: property ${key} should not exist`,
        errors: [{ field: key, messages: [`property ${key} should not exist`], in: where }],
      });
    }
  }
  next();
}
