import { Controller, Get, Inject, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Allowed, Caller } from '../../src/http/access';
import { validationProblem } from '../../src/http/problem';
import type { Identity } from '../../src/identity/roles';
import { ConsistencyQuery } from '../query-api/consistency.query';
import { answerOf, clearViewHeaders, notFound, notModified, ViewReader } from '../query-api/view-response';
import { type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ApiViewQuery } from '../query-api/view.openapi';
import { ORDERS, orderSummaryProjection } from './order-summary.projection';
import { OrderSummaryResponse } from './order-summary.response.dto';

// eslint-disable-next-line no-useless-assignment -- read by a parameter decorator, which the rule does not see (eslint/eslint#20947)
const orderId = new ParseUUIDPipe({
  exceptionFactory: () => validationProblem([{ field: 'id', messages: ['order id must be a UUID'] }]),
});

@ApiTags('orders')
@Controller('orders')
export class OrderSummaryController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly views: ViewReader,
  ) {}

  @Get(':id')
  @Allowed('GET /orders/{id}')
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiViewQuery({
    operationId: 'getOrder',
    summary: 'Get an order with its lines, status and timeline',
    data: OrderSummaryResponse,
    shape: 'single',
    notFound: 'no order with this id in the view (send the consistency token of POST /orders to wait for it)',
    resource: 'order 0b6f3c52-9d4e-4b8a-a1f7-5f2c8e9d7a31',
  })
  async get(
    @Query() _query: ConsistencyQuery,
    @Param('id', orderId) id: string,
    @Caller() caller: Identity,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const found = await this.views.cached(req, res, { projection: orderSummaryProjection.name, collection: ORDERS, id }, () =>
      loadOrderSummary(this.store, id),
    );
    // Another customer's order is not found, exactly like one that does not exist: not even the
    // View-* headers (set by a read that found a document, or missed the cache) tell the two apart.
    const owner = (found?.answer.data as { customerId?: string } | undefined)?.customerId;
    if (!found || (caller.role === 'customer' && owner !== caller.subject)) {
      clearViewHeaders(res);
      throw notFound(`order ${id}`);
    }
    if (notModified(req, res, found.answer.etag)) return undefined;
    return { data: found.answer.data, view: found.view };
  }
}

/** An order as GET /orders/{id} answers it (also what the read cache's fast path loads). */
export async function loadOrderSummary(store: ViewStore, id: string) {
  const stored = await store.get(ORDERS, id);
  return stored ? { applied: stored.applied, answer: answerOf(stored.doc, stored.doc.version) } : null;
}
