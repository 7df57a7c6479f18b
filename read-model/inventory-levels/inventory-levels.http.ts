import { Allowed } from '../../src/http/access';
import { Controller, Get, Inject, Param, Query, Res, Req } from '@nestjs/common';
import { ApiParam, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Request, Response } from 'express';
import { SKU_PATTERN } from '../../src/contracts';
import { validationProblem } from '../../src/http/problem';
import { ConsistencyQuery, PageQuery } from '../query-api/consistency.query';
import { answerOf, findPage, notFound, notModified, pageRequest, ViewReader } from '../query-api/view-response';
import { type FilterCondition, type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ApiViewQuery, SKU_PARAM_SCHEMA } from '../query-api/view.openapi';
import { INVENTORY } from './inventory-levels.projection';
import { InventoryLevelResponse } from './inventory-levels.response.dto';

const PROJECTION = 'inventory-levels';

export class ListInventoryQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'only skus at or below (or above) the low-stock threshold' })
  @IsOptional()
  @IsIn(['true', 'false'])
  lowStock?: 'true' | 'false';
}

@ApiTags('inventory')
@Controller('inventory')
export class InventoryLevelsController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly views: ViewReader,
  ) {}

  @Get()
  @Allowed('GET /inventory')
  @ApiViewQuery({
    operationId: 'listInventory',
    summary: 'List stock levels by sku',
    description: '`lowStock=true` lists the skus at or below the low-stock threshold.',
    data: InventoryLevelResponse,
    shape: 'page',
  })
  async list(@Query() query: ListInventoryQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const request = pageRequest(query, 'sku', { field: 'sku', direction: 'asc' });
    const filter: FilterCondition[] = query.lowStock ? [{ field: 'lowStock', op: 'eq', value: query.lowStock === 'true' }] : [];
    const { result, view } = await this.views.read(req, res, PROJECTION, () => findPage(this.store, INVENTORY, request, filter));
    return { data: result.docs, page: result.page, view };
  }

  @Get(':sku')
  @Allowed('GET /inventory/{sku}')
  @ApiParam({ name: 'sku', schema: SKU_PARAM_SCHEMA })
  @ApiViewQuery({
    operationId: 'getInventory',
    summary: 'Get the stock levels of a sku',
    data: InventoryLevelResponse,
    shape: 'single',
    notFound: 'no product with this sku in the view',
    resource: 'inventory of MUG-001',
  })
  async get(@Query() _query: ConsistencyQuery, @Param('sku') sku: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (!SKU_PATTERN.test(sku)) throw validationProblem([{ field: 'sku', messages: ['not a valid sku'] }]);
    const found = await this.views.cached(req, res, { projection: PROJECTION, collection: INVENTORY, id: sku }, () =>
      loadInventoryLevel(this.store, sku),
    );
    if (!found) throw notFound(`inventory of ${sku}`);
    if (notModified(req, res, found.answer.etag)) return undefined;
    return { data: found.answer.data, view: found.view };
  }
}

/** A sku's stock levels as GET /inventory/{sku} answers them (also what the read cache's fast path loads). */
export async function loadInventoryLevel(store: ViewStore, sku: string) {
  const stored = await store.get(INVENTORY, sku);
  return stored ? { applied: stored.applied, answer: answerOf(stored.doc, stored.doc.version) } : null;
}
