import { Public } from './access';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { reasonOf } from '../unreachable';
import { ApiProblems, BAD_QUERY } from './openapi';
import { Problem, problemType, sendProblem } from './problem';
import { NothingElse } from './validation';

/**
 * Named checks a process is ready when all pass (e.g. its database answers). A check that
 * resolves to `{ status: 'degraded', ... }` passes (the process still serves, e.g. without its
 * cache) and says so, with its detail, in the answer.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** A check that has not answered by then counts as down: a probe must answer even when a store hangs. */
const CHECK_TIMEOUT_MS = 3_000;

export class DependencyHealth {
  @ApiProperty({
    enum: ['up', 'down', 'degraded'],
    description: '`degraded`: serving without it (e.g. the read cache while Redis is down)',
  })
  status!: 'up' | 'down' | 'degraded';

  @ApiPropertyOptional({ description: 'why it is down', example: 'ECONNREFUSED' })
  message?: string;

  @ApiPropertyOptional({ description: "the read cache's Redis tier: `up` or `degraded: <reason>`", example: 'up' })
  redis?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'the read cache: per view, whether it is served from the cache (`in sync`) or from the store while resynchronising',
    example: { 'product-catalog': 'in sync' },
  })
  views?: Record<string, string>;
}

function degraded(value: unknown): value is { status: 'degraded' } {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'degraded';
}

export class LiveResponse {
  @ApiProperty({ enum: ['live'] })
  status!: 'live';
}

const dependencies = (description: string, example: Record<string, DependencyHealth>) => ({
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(DependencyHealth) },
  description,
  example,
});

/** The @nestjs/terminus health document: every dependency in `details`, split into `info` (up) and `error` (down). */
export class ReadyResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';

  @ApiProperty(dependencies('the dependencies that are up', { postgres: { status: 'up' } }))
  info!: Record<string, DependencyHealth>;

  @ApiProperty(dependencies('the dependencies that are down: none when ready', {}))
  error!: Record<string, DependencyHealth>;

  @ApiProperty(dependencies('every dependency checked', { postgres: { status: 'up' } }))
  details!: Record<string, DependencyHealth>;
}

export type HealthDocument = Omit<ReadyResponse, 'status'> & { status: 'ok' | 'error' | 'shutting_down' };

/** The 503s of /health/ready: problem+json carrying the same per-dependency members as the 200. */
export function notReadyProblem(health: HealthDocument): Problem {
  const down = Object.entries(health.error).map(([name, { message }]) => `${name} is down${message ? ` (${message})` : ''}`);
  const { info, error, details } = health;
  if (health.status === 'shutting_down') {
    return {
      type: problemType('shutting-down'),
      title: 'Service unavailable',
      status: 503,
      detail: 'the process is shutting down: it finishes the requests in flight and takes no new ones',
      info,
      error,
      details,
    };
  }
  return {
    type: problemType('unavailable'),
    title: 'Service unavailable',
    status: 503,
    detail: `not ready: ${down.join(', ')}`,
    info,
    error,
    details,
  };
}

const NOT_READY_EXAMPLES = {
  'dependency-down': notReadyProblem({
    status: 'error',
    info: {},
    error: { postgres: { status: 'down', message: 'ECONNREFUSED' } },
    details: { postgres: { status: 'down', message: 'ECONNREFUSED' } },
  }),
  'shutting-down': notReadyProblem({
    status: 'shutting_down',
    info: { postgres: { status: 'up' } },
    error: {},
    details: { postgres: { status: 'up' } },
  }),
};

@ApiTags('health')
@ApiExtraModels(DependencyHealth)
@Public()
@Controller('health')
export class HealthController {
  private draining = false;

  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessChecks) {}

  /** From now on readiness answers 503 (the process is stopping); liveness is unchanged. */
  drain(): void {
    this.draining = true;
  }

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: 'Liveness: the process answers HTTP' })
  @ApiOkResponse({ type: LiveResponse })
  @ApiProblems({ 400: BAD_QUERY })
  live(@Query(NothingElse) _query: unknown) {
    return { status: 'live' };
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'ready',
    summary: 'Readiness: every dependency of the process answers',
    description:
      'The @nestjs/terminus health document. A 503 is problem+json with the same `info`, `error` and `details` ' +
      '(`unavailable`: a dependency is down; `shutting-down`: the process is stopping).',
  })
  @ApiOkResponse({ type: ReadyResponse })
  @ApiProblems({ 400: BAD_QUERY, 503: 'a dependency is down (`error` names it), or the process is shutting down' }, NOT_READY_EXAMPLES)
  async ready(@Query(NothingElse) _query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const health = await this.health();
    // A failing probe is an answer, not an error: it goes out as is, without an exception (and its error log).
    if (health.status !== 'ok') return sendProblem(req, res, notReadyProblem(health));
    res.status(200).json(health);
  }

  private health(): Promise<HealthDocument> {
    return readiness(this.checks, this.draining);
  }
}

/** Runs every check (bounded) into the terminus-shaped document; the APIs and the ops server share it. */
export async function readiness(checks: ReadinessChecks, draining = false): Promise<HealthDocument> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyHealth]> => {
      try {
        const value = await withTimeout(check());
        if (degraded(value)) return [name, { ...value, status: 'degraded' }];
        // A check may report detail with its state (the read cache: Redis, the views it serves).
        if (typeof value === 'object' && value !== null && 'status' in value) return [name, { ...value, status: 'up' }];
        return [name, { status: 'up' }];
      } catch (error) {
        return [name, { status: 'down', message: reasonOf(error) }];
      }
    }),
  );
  const details = Object.fromEntries(results);
  const info = Object.fromEntries(results.filter(([, state]) => state.status !== 'down'));
  const error = Object.fromEntries(results.filter(([, state]) => state.status === 'down'));
  const status = draining ? 'shutting_down' : Object.keys(error).length ? 'error' : 'ok';
  return { status, info, error, details };
}

function withTimeout<T>(check: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}
