import { ConsistencyQuery } from '../query-api/consistency.query';
import { Controller, Get, Inject, Param, Query, Res, Req } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import type { Request, Response } from 'express';
import { validationProblem } from '../../src/http/problem';
import { CleanText, NumberParam } from '../../src/http/validation';
import { VIEW_STORE } from '../query-api/tokens';
import {ViewReader, decodeCursor, encodeCursor} from '../query-api/view-response';
import type { FilterCondition, ViewStore } from '../view-store/view-store';
import { ApiViewQuery } from '../query-api/view.openapi';
import { CUSTOMER_ORDERS, customerOrdersProjection } from './customer-orders.projection';
import { CustomerOrderResponse } from './customer-orders.response.dto';

const STATUSES = ['pending', 'stock_reserved', 'paid', 'confirmed', 'shipped', 'rejected', 'cancelled'];
const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class CustomerOrdersQuery extends ConsistencyQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @NumberParam()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page', minLength: 1, maxLength: 500 })
  @IsOptional()
  @IsString()
  @CleanText()
  @Length(1, 500)
  cursor?: string;
}

@ApiTags('orders')
@Controller('customers')
export class CustomerOrdersController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly views: ViewReader,
  ) {}

  /** A customer's orders, newest first. */
  @Get(':id/orders')
  @ApiParam({ name: 'id', description: 'the customer id', schema: { type: 'string', pattern: CUSTOMER_ID.source }, example: 'cust-42' })
  @ApiViewQuery({
    operationId: 'listCustomerOrders',
    summary: "List a customer's orders, newest first",
    data: CustomerOrderResponse,
    shape: 'page',
  })
  async list(@Param('id') customerId: string, @Query() query: CustomerOrdersQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (!CUSTOMER_ID.test(customerId)) {
      throw validationProblem([{ field: 'id', messages: ['customer id must be 1-64 letters, digits, "_" or "-"'] }]);
    }
    const limit = query.limit ?? 20;
    const filter: FilterCondition[] = [{ field: 'customerId', op: 'eq', value: customerId }];
    if (query.status) filter.push({ field: 'status', op: 'eq', value: query.status });
    const { result: found, view: meta } = await this.views.read(req, res, customerOrdersProjection.name, () =>
      this.store.find(CUSTOMER_ORDERS, {
        filter,
        sort: { field: 'placedAt', direction: 'desc' },
        after: query.cursor ? decodeCursor(query.cursor, 'placedAt') : undefined,
        limit: limit + 1,
      }),
    );
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = found.length > limit && last ? encodeCursor('placedAt', last.doc.placedAt, last.id) : null;
    return { data: page.map((d) => d.doc), page: { limit, nextCursor }, view: meta };
  }
}
