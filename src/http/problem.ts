import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from '../logger';

/** RFC 9457 problem details; `type` is stable per kind of error so clients can switch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const problemType = (kind: string) => `urn:converge:problem:${kind}`;

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** An error that already knows its problem document. */
export class ProblemException extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface FieldError {
  field: string;
  messages: string[];
}

/** Maps errors by name so this shared filter needs no import from write-model or read-model. */
export type ProblemMapper = (error: unknown) => Problem | undefined;

const TITLES: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  413: ['payload-too-large', 'Request body too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  503: ['unavailable', 'Service unavailable'],
};

/** Every error leaves as application/problem+json; a 500 never carries a stack trace. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly mappers: ProblemMapper[] = [],
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.methodNotAllowed(error, request, response) ?? this.toProblem(error);
    // A 503 is expected while a dependency is down: one line, no stack. Anything else 5xx is a bug to look at.
    if (problem.status === 503) this.logger.warn({ path: request.path, detail: problem.detail }, 'request refused: unavailable');
    else if (problem.status >= 500) this.logger.error({ err: error, path: request.path }, 'request failed');
    sendProblem(request, response, problem);
  }

  /** A route that exists for other methods answers 405 with Allow, not 404. */
  private methodNotAllowed(error: unknown, request: Request, response: Response): Problem | undefined {
    if (!(error instanceof HttpException) || error.getStatus() !== 404 || !/^Cannot /.test(error.message)) return undefined;
    const stack: RouteLayer[] = (request.app as unknown as { router?: { stack: RouteLayer[] } }).router?.stack ?? [];
    const allowed = new Set<string>();
    for (const layer of stack) {
      if (!layer.route || !layer.match(request.path)) continue;
      for (const method of Object.keys(layer.route.methods)) allowed.add(method.toUpperCase());
    }
    if (allowed.size === 0) return undefined;
    response.setHeader('Allow', [...allowed].sort().join(', '));
    return {
      type: problemType('method-not-allowed'),
      title: 'Method not allowed',
      status: 405,
      detail: `${request.method} is not allowed on ${request.path}; use ${[...allowed].sort().join(', ')}`,
    };
  }

  private toProblem(error: unknown): Problem {
    if (error instanceof ProblemException) return error.problem;
    for (const map of this.mappers) {
      const problem = map(error);
      if (problem) return problem;
    }
    const bodyError = bodyParserProblem(error);
    if (bodyError) return bodyError;
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const [kind, title] = TITLES[status] ?? ['http-error', error.message];
      const body = error.getResponse();
      const detail = typeof body === 'string' ? body : String((body as { message?: string | string[] }).message ?? error.message);
      return { type: problemType(kind), title, status, detail };
    }
    return {
      type: problemType('internal'),
      title: 'Internal server error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'The server failed to handle the request; it has been logged.',
    };
  }
}

/** What a 503 tells clients to wait before retrying: a store coming back, or another replica taking over. */
export const RETRY_AFTER_SECONDS = 5;

export function sendProblem(request: Request, response: Response, problem: Problem): void {
  if (response.headersSent) return;
  if (problem.status === 503) response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  response
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ ...problem, instance: request.originalUrl }));
}

/** body-parser's errors carry a `type`; turn them into the 4xx they are. */
export function bodyParserProblem(error: unknown): Problem | undefined {
  const e = error as { type?: string; status?: number; message?: string; limit?: number; body?: unknown };
  switch (e?.type) {
    case 'entity.parse.failed':
      return { type: problemType('malformed-json'), title: 'Malformed JSON body', status: 400, detail: notAnObject(e.body) ?? e.message };
    case 'entity.too.large':
      return {
        type: problemType('payload-too-large'),
        title: 'Request body too large',
        status: 413,
        detail: `the body exceeds ${e.limit} bytes`,
      };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { type: problemType('unsupported-media-type'), title: 'Unsupported media type', status: 415, detail: e.message };
    default:
      return undefined;
  }
}

/** What a body that parses but is not an object is told (a scalar here, an array by the validation pipe). */
export const NOT_AN_OBJECT = 'the body must be a JSON object';

/**
 * body-parser refuses a body of valid JSON that is not an object or array (`null`, `"text"`, `3`)
 * with the message JSON.parse would give, which calls it invalid JSON: say what is wrong instead.
 */
function notAnObject(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    JSON.parse(body);
  } catch {
    return undefined;
  }
  return NOT_AN_OBJECT;
}

export function validationProblem(errors: FieldError[]): ProblemException {
  return new ProblemException({
    type: problemType('validation'),
    title: 'Invalid request',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.messages.join(', ')}`).join('; '),
    errors,
  });
}
