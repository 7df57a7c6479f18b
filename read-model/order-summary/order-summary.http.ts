import { Controller, Get, Inject, Param, ParseUUIDPipe, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { validationProblem } from '../../src/http/problem';
import { VIEW_STORE } from '../query-api/tokens';
import { notFound, setViewHeaders, viewMeta } from '../query-api/view-response';
import type { ViewStore } from '../view-store/view-store';
import { ORDERS, orderSummaryProjection } from './order-summary.projection';

const orderId = new ParseUUIDPipe({
  exceptionFactory: () => validationProblem([{ field: 'id', messages: ['order id must be a UUID'] }]),
});

@ApiTags('orders')
@Controller('orders')
export class OrderSummaryController {
  constructor(@Inject(VIEW_STORE) private readonly store: ViewStore) {}

  @Get(':id')
  async get(@Param('id', orderId) id: string, @Res({ passthrough: true }) res: Response) {
    const [meta, stored] = await Promise.all([viewMeta(this.store, orderSummaryProjection.name), this.store.get(ORDERS, id)]);
    setViewHeaders(res, meta);
    if (!stored) throw notFound(`order ${id}`);
    res.setHeader('ETag', `"${stored.doc.version}"`);
    return { data: stored.doc, view: meta };
  }
}
