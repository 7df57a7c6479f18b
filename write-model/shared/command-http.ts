import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import '../../src/http/access';
import { problemType, ProblemException } from '../../src/http/problem';
import { CommandContext, CommandResult, requestHash } from './aggregate-store';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const CORRELATION_ID = /^[\x20-\x7e]{1,128}$/;

/** Builds a command's context from the request: correlation, If-Match, Idempotency-Key. */
export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext => {
  const req = ctx.switchToHttp().getRequest<Request>();
  const correlationId = header(req, 'x-correlation-id') ?? randomUUID();
  if (!CORRELATION_ID.test(correlationId)) throw badHeader('X-Correlation-Id', 'must be 1-128 printable ASCII characters');
  // The guard verified the token before any parameter is built: the actor is who it proves, never a header.
  const identity = req.identity;
  if (!identity) throw new Error('a command route without a token requirement');
  const context: CommandContext = { correlationId, actor: identity.subject, actorRole: identity.role };
  const ifMatch = header(req, 'if-match');
  if (ifMatch !== undefined) context.expectedVersion = parseIfMatch(ifMatch);
  const key = header(req, 'idempotency-key');
  if (key !== undefined) {
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw badHeader('Idempotency-Key', 'must be 1-200 printable ASCII characters');
    }
    // Kept per caller: another caller's request with the same key is never answered with this one's outcome.
    const scope = `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path} by ${identity.subject}`;
    context.idempotency = { scope, key, requestHash: requestHash({ params: req.params, body: (req.body as unknown) ?? null }) };
  }
  return context;
});

/** A command's answer body: the new version and consistency token of the aggregate it wrote. */
export type CommandAnswer = Omit<CommandResult, 'resolution'>;

/** Answers a command with its result: the ETag, Consistency-Token and Conflict-Resolution headers, then the body. */
export type Answer = (result: Promise<CommandResult>) => Promise<CommandAnswer>;

/**
 * Every command answers with ETag (the new version) and Consistency-Token headers, and with
 * Conflict-Resolution when its policy resolved a stale If-Match (the body stays `{ id, version, token }`).
 * A parameter rather than an interceptor: Nest runs a route with interceptors through rxjs and
 * binds an async resource per interceptor and request, which cost the command API about a tenth
 * of its CPU per command.
 */
export const Answer = createParamDecorator((_: unknown, ctx: ExecutionContext): Answer => {
  const res = ctx.switchToHttp().getResponse<Response>();
  return async (pending) => {
    const { resolution, ...result } = await pending;
    res.setHeader('ETag', `"${result.version}"`);
    res.setHeader('Consistency-Token', result.token);
    if (resolution) res.setHeader('Conflict-Resolution', resolution);
    return result;
  };
});

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Accepts `"3"`, `W/"3"` or `3`: the aggregate version the client last saw. */
function parseIfMatch(value: string): number {
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!match) throw badHeader('If-Match', 'must be an ETag carrying an aggregate version, e.g. "3"');
  return Number(match[1]);
}

function badHeader(name: string, message: string): ProblemException {
  return new ProblemException({
    type: problemType('validation'),
    title: 'Invalid request',
    status: 400,
    detail: `${name}: ${message}`,
    errors: [{ field: `header ${name}`, messages: [message] }],
  });
}
