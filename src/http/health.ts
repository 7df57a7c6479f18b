import { Controller, Get, HttpException, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BAD_QUERY } from './openapi';
import { NothingElse } from './validation';

/**
 * Named checks a process is ready when all pass (e.g. its database answers). A check that
 * resolves to `{ status: 'degraded', ... }` passes (the process still serves, e.g. without its
 * cache) and says so, with its detail, in the answer.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

function degraded(value: unknown): value is { status: 'degraded' } {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'degraded';
}

export class LiveResponse {
  @ApiProperty({ enum: ['live'] })
  status!: 'live';
}

export class ReadyResponse {
  @ApiProperty({ enum: ['ready'] })
  status!: 'ready';

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down', 'degraded'] },
    description: 'each dependency checked; `degraded`: serving without it (e.g. the read cache while Redis is down)',
    example: { postgres: 'up' },
  })
  checks!: Record<string, 'up' | 'down' | 'degraded'>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'what the checks that reported detail said (e.g. the read cache: Redis state, views served from it)',
    example: { cache: { status: 'degraded', redis: 'degraded: connect ECONNREFUSED 127.0.0.1:6379', views: { 'product-catalog': 'in sync' } } },
  })
  details?: Record<string, unknown>;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessChecks) {}

  @Get('live')
  @ApiOperation({ operationId: 'live', summary: 'Liveness: the process answers HTTP' })
  @ApiOkResponse({ type: LiveResponse })
  @ApiProblems({ 400: BAD_QUERY })
  live(@Query(NothingElse) _query: unknown) {
    return { status: 'live' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'ready', summary: 'Readiness: every dependency of the process answers' })
  @ApiOkResponse({ type: ReadyResponse })
  @ApiProblems({ 400: BAD_QUERY, 503: 'a dependency is down; `detail` names which' })
  async ready(@Query(NothingElse) _query: unknown) {
    const details: Record<string, unknown> = {};
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          const value = await check();
          if (typeof value === 'object' && value !== null && 'status' in value) details[name] = value;
          return [name, degraded(value) ? 'degraded' : 'up'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    if (results.some(([, state]) => state === 'down')) {
      throw new HttpException({ message: `not ready: ${JSON.stringify(checks)}` }, 503);
    }
    return { status: 'ready', checks, ...(Object.keys(details).length && { details }) };
  }
}
