import { Allowed } from '../../src/http/access';
import { ConsistencyQuery } from '../query-api/consistency.query';
import { Controller, Get, Inject, Query, Res, Req } from '@nestjs/common';
import { ApiProperty, ApiTags } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import type { Request, Response } from 'express';
import { validationProblem } from '../../src/http/problem';
import { ViewReader } from '../query-api/view-response';
import { type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ApiViewQuery } from '../query-api/view.openapi';
import { DAILY_SALES, dailySalesProjection, DailySalesView, Revenue } from './daily-sales.projection';
import { DailySalesResponse, DailySalesTotals } from './daily-sales.response.dto';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

export class DailySalesQuery extends ConsistencyQuery {
  @ApiProperty({ format: 'date', example: '2026-11-01', description: 'first day (UTC), inclusive' })
  @Matches(DAY, { message: 'from must be a date like 2026-11-01' })
  from!: string;

  @ApiProperty({ format: 'date', example: '2026-11-30', description: 'last day (UTC), inclusive; at most 366 days after from' })
  @Matches(DAY, { message: 'to must be a date like 2026-11-30' })
  to!: string;
}

@ApiTags('reports')
@Controller('reports')
export class DailySalesController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly views: ViewReader,
  ) {}

  @Get('daily-sales')
  @Allowed('GET /reports/daily-sales')
  @ApiViewQuery({
    operationId: 'getDailySales',
    summary: 'Confirmed sales per UTC day, with totals',
    description: `Days without sales are left out; at most ${MAX_DAYS} days per report.`,
    data: DailySalesResponse,
    shape: 'array',
    extra: { totals: DailySalesTotals },
  })
  async dailySales(@Query() query: DailySalesQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const from = Date.parse(`${query.from}T00:00:00Z`);
    const to = Date.parse(`${query.to}T00:00:00Z`);
    if (Number.isNaN(from) || new Date(from).toISOString().slice(0, 10) !== query.from) {
      throw validationProblem([{ field: 'from', messages: ['from is not a calendar date'] }]);
    }
    if (Number.isNaN(to) || new Date(to).toISOString().slice(0, 10) !== query.to) {
      throw validationProblem([{ field: 'to', messages: ['to is not a calendar date'] }]);
    }
    if (to < from) throw validationProblem([{ field: 'to', messages: ['to must not be before from'] }]);
    if ((to - from) / 86_400_000 + 1 > MAX_DAYS) {
      throw validationProblem([{ field: 'to', messages: [`at most ${MAX_DAYS} days per report`] }]);
    }
    const { result: found, view: meta } = await this.views.read(req, res, dailySalesProjection.name, () =>
      this.store.find(DAILY_SALES, {
        filter: [
          { field: 'day', op: 'gte', value: query.from },
          { field: 'day', op: 'lte', value: query.to },
        ],
        sort: { field: 'day', direction: 'asc' },
        limit: MAX_DAYS,
      }),
    );
    const days = found.map((d) => d.doc as unknown as DailySalesView);
    return { data: days, totals: totals(days), view: meta };
  }
}

function totals(days: DailySalesView[]) {
  const revenue: Revenue = {};
  for (const day of days)
    for (const [currency, amount] of Object.entries(day.revenue)) revenue[currency] = (revenue[currency] ?? 0) + amount;
  return {
    orders: days.reduce((sum, d) => sum + d.orders, 0),
    units: days.reduce((sum, d) => sum + d.units, 0),
    revenue,
  };
}
