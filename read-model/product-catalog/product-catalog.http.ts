import { Allowed } from '../../src/http/access';
import { Controller, Get, Inject, Param, Query, Res, Req } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { validationProblem } from '../../src/http/problem';
import { SKU_PATTERN } from '../../src/contracts';
import { ConsistencyQuery } from '../query-api/consistency.query';
import { answerOf, findPage, notFound, notModified, pageRequest, ViewReader } from '../query-api/view-response';
import { FIRST_PAGE } from '../query-cache/query-cache';
import { type FilterCondition, type ViewStore, VIEW_STORE } from '../view-store/view-store';
import { ApiViewQuery, SKU_PARAM_SCHEMA } from '../query-api/view.openapi';
import { ListProductsQuery } from './product-catalog.query.dto';
import { ProductResponse } from './product-catalog.response.dto';
import { PRODUCTS, productCatalogProjection } from './product-catalog.projection';

const PROJECTION = productCatalogProjection.name;
const SORT_FIELDS = { name: 'sortName', price: 'price.amount' } as const;

@ApiTags('catalog')
@Controller('products')
export class ProductCatalogController {
  constructor(
    @Inject(VIEW_STORE) private readonly store: ViewStore,
    private readonly views: ViewReader,
  ) {}

  @Get()
  @Allowed('GET /products')
  @ApiViewQuery({
    operationId: 'listProducts',
    summary: 'List products with live availability',
    description: 'Filter by status, name text, price range or stock; sort by name or price; page with `cursor`.',
    data: ProductResponse,
    shape: 'page',
  })
  async list(@Query() query: ListProductsQuery, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice) {
      throw validationProblem([{ field: 'minPrice', messages: ['minPrice must not exceed maxPrice'] }]);
    }
    const sortKey = query.sort ?? 'name';
    const request = pageRequest(query, sortKey, {
      field: SORT_FIELDS[sortKey.replace('-', '') as keyof typeof SORT_FIELDS],
      direction: sortKey.startsWith('-') ? 'desc' : 'asc',
    });
    const filter: FilterCondition[] = [];
    if (query.status) filter.push({ field: 'status', op: 'eq', value: query.status });
    if (query.q) filter.push({ field: 'name', op: 'contains', value: query.q });
    if (query.minPrice !== undefined) filter.push({ field: 'price.amount', op: 'gte', value: query.minPrice });
    if (query.maxPrice !== undefined) filter.push({ field: 'price.amount', op: 'lte', value: query.maxPrice });
    if (query.inStock === 'true') filter.push({ field: 'available', op: 'gt', value: 0 });
    if (query.inStock === 'false') filter.push({ field: 'available', op: 'lte', value: 0 });
    const load = async () => {
      const { docs, page } = await findPage(this.store, PRODUCTS, request, filter);
      return { answer: answerOf({ data: docs.map(present), page }, undefined) };
    };
    // The first page of the default list is cached; any other list is read from the store.
    const firstPage = Object.keys(req.query).every((name) => name === 'after');
    const found = firstPage
      ? await this.views.cached(req, res, { projection: PROJECTION, collection: PRODUCTS, id: FIRST_PAGE }, load)
      : await this.views.read(req, res, PROJECTION, load).then(({ result, view }) => ({ answer: result.answer, view }));
    const { data, page } = found!.answer.data as { data: unknown[]; page: unknown };
    return { data, page, view: found!.view };
  }

  @Get(':sku')
  @Allowed('GET /products/{sku}')
  @ApiParam({ name: 'sku', schema: SKU_PARAM_SCHEMA })
  @ApiViewQuery({
    operationId: 'getProduct',
    summary: 'Get a product',
    data: ProductResponse,
    shape: 'single',
    notFound: 'no product with this sku in the view',
    resource: 'product MUG-001',
  })
  async get(@Query() _query: ConsistencyQuery, @Param('sku') sku: string, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (!SKU_PATTERN.test(sku)) throw validationProblem([{ field: 'sku', messages: ['not a valid sku'] }]);
    const found = await this.views.cached(req, res, { projection: PROJECTION, collection: PRODUCTS, id: sku }, () =>
      loadProduct(this.store, sku),
    );
    if (!found) throw notFound(`product ${sku}`);
    if (notModified(req, res, found.answer.etag)) return undefined;
    return { data: found.answer.data, view: found.view };
  }
}

/** A product as GET /products/{sku} answers it (also what the read cache's fast path loads). */
export async function loadProduct(store: ViewStore, sku: string) {
  const stored = await store.get(PRODUCTS, sku);
  return stored ? { applied: stored.applied, answer: answerOf(present(stored.doc), stored.doc.version) } : null;
}

/** The public shape of a product: the internal sort key stays inside. */
function present(doc: Record<string, unknown>) {
  const { sortName: _sortName, ...product } = doc;
  return product;
}
