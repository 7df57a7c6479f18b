import { PageQuery } from '../query-api/consistency.query';
import { Controller, Get, Inject, Param, Query, Res, Req } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Request, Response } from 'express';
import { Allowed, Caller } from '../../src/http/access';
import { validationProblem } from '../../src/http/problem';
import type { Identity } from '../../src/identity/roles';
import { findPage, notFound, pageRequest, ViewReader } from '../query-api/view-response';
import { type FilterCondition, type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ApiViewQuery } from '../query-api/view.openapi';
import { CUSTOMER_ORDERS, customerOrdersProjection } from './customer-orders.projection';
import { CustomerOrderResponse } from './customer-orders.response.dto';

const STATUSES = ['pending', 'stock_reserved', 'paid', 'confirmed', 'shipped', 'rejected', 'cancelled'];
const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class CustomerOrdersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: string;
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
  @Allowed('GET /customers/{id}/orders')
  @ApiParam({ name: 'id', description: 'the customer id', schema: { type: 'string', pattern: CUSTOMER_ID.source, example: 'cust-42' } })
  @ApiViewQuery({
    operationId: 'listCustomerOrders',
    summary: "List a customer's orders, newest first",
    data: CustomerOrderResponse,
    shape: 'page',
  })
  async list(
    @Param('id') customerId: string,
    @Query() query: CustomerOrdersQuery,
    @Caller() caller: Identity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!CUSTOMER_ID.test(customerId)) {
      throw validationProblem([{ field: 'id', messages: ['customer id must be 1-64 letters, digits, "_" or "-"'] }]);
    }
    // A customer lists its own orders; another customer's list does not exist for it.
    if (caller.role === 'customer' && caller.subject !== customerId) throw notFound(`customer ${customerId}`);
    const request = pageRequest(query, 'placedAt', { field: 'placedAt', direction: 'desc' });
    const filter: FilterCondition[] = [{ field: 'customerId', op: 'eq', value: customerId }];
    if (query.status) filter.push({ field: 'status', op: 'eq', value: query.status });
    const { result, view } = await this.views.read(req, res, customerOrdersProjection.name, () =>
      findPage(this.store, CUSTOMER_ORDERS, request, filter),
    );
    return { data: result.docs, page: result.page, view };
  }
}
