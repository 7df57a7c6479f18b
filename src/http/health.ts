import { Controller, Get, HttpException, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BAD_QUERY } from './openapi';
import { NothingElse } from './validation';

/** Named checks a process is ready when all pass (e.g. its database answers). */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export class LiveResponse {
  @ApiProperty({ enum: ['live'] })
  status!: 'live';
}

export class ReadyResponse {
  @ApiProperty({ enum: ['ready'] })
  status!: 'ready';

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
    description: 'each dependency checked',
    example: { postgres: 'up' },
  })
  checks!: Record<string, 'up' | 'down'>;
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
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, 'up'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    if (results.some(([, state]) => state === 'down')) {
      throw new HttpException({ message: `not ready: ${JSON.stringify(checks)}` }, 503);
    }
    return { status: 'ready', checks };
  }
}
