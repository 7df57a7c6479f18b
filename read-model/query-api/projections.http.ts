import { Allowed } from '../../src/http/access';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, BAD_QUERY } from '../../src/http/openapi';
import { NothingElse } from '../../src/http/validation';
import { allProjections } from '../projections';
import { type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ViewFreshness } from './freshness';
import { ProjectionsResponse } from './projections.response.dto';
import { ViewReader } from './view-response';

// Names only: the threshold does not change which projections exist.
export const PROJECTION_NAMES = allProjections({ lowStockThreshold: 0 }).map((p) => p.name);

/** Every projection's position and lag, from the read store and the projectors' consumers. */
@ApiTags('projections')
@Controller('projections')
export class ProjectionsController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly freshness: ViewFreshness,
    private readonly views: ViewReader,
  ) {}

  @Get()
  @Allowed('GET /projections')
  @ApiOperation({ operationId: 'listProjections', summary: "Every projection's position and lag" })
  @ApiOkResponse({ type: ProjectionsResponse })
  @ApiProblems({ 400: BAD_QUERY })
  async list(@Query(NothingElse) _query: unknown) {
    const stored = await this.store.checkpoints();
    // A position reported here is one the read cache has applied the changes up to.
    await this.views.coveredBy(stored);
    const checkpoints = new Map(stored.map((c) => [c.projection, c]));
    const now = Date.now();
    const data = await Promise.all(
      PROJECTION_NAMES.map(async (projection) => {
        const checkpoint = checkpoints.get(projection);
        const events = await this.freshness.pendingEvents(projection, checkpoint);
        const recorded = checkpoint?.eventRecordedAt ? new Date(checkpoint.eventRecordedAt).getTime() : now;
        return {
          projection,
          position: checkpoint?.position ?? 0,
          lag: { events, ms: events > 0 ? Math.max(0, now - recorded) : 0 },
          updatedAt: checkpoint?.updatedAt ? new Date(checkpoint.updatedAt).toISOString() : null,
        };
      }),
    );
    return { data };
  }
}
