import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { SKU_PATTERN } from '../../src/contracts';
import { ApiProblems, BAD_QUERY, headerRefs } from '../../src/http/openapi';
import { problemType, validationProblem } from '../../src/http/problem';
import { PLUMBING_PROBLEMS, ProblemExamples } from '../../src/http/problem-examples';
import { MAX_WAIT_MS, notFound } from './view-response';

export class MoneyView {
  @ApiProperty({ type: 'integer', description: 'integer minor units (cents)', example: 1299 })
  amount!: number;

  @ApiProperty({ description: 'ISO 4217 code', example: 'EUR' })
  currency!: string;
}

export class ViewLag {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'events published but not yet applied' })
  events!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: "age of the view's newest event while it lags, 0 when caught up" })
  ms!: number;
}

/** The `view` member of every query answer (see ViewMeta). */
export class ViewMetaResponse {
  @ApiProperty({ example: 'product-catalog' })
  projection!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'global position of the last event the view has applied (0: none yet)' })
  position!: number;

  @ApiProperty({ type: ViewLag })
  lag!: ViewLag;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true, description: 'when the view last changed' })
  updatedAt!: string | null;

  @ApiProperty({ description: 'true when a consistency token was sent and the view had not applied it within the wait' })
  stale!: boolean;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'when stale: how long ago the awaited write committed' })
  staleByMs?: number;
}

export class PageResponse {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100 })
  limit!: number;

  @ApiProperty({ type: 'string', nullable: true, description: 'pass as ?cursor= for the next page; null on the last page' })
  nextCursor!: string | null;
}

export interface ViewQueryDoc {
  operationId: string;
  summary: string;
  description?: string;
  /** The schema of one item of `data`. */
  data: Type<unknown>;
  /** A page of items (`data` is an array, with `page`), or one resource (ETag, 304, 404). */
  shape: 'page' | 'array' | 'single';
  /** More members of the answer, e.g. daily sales `totals`. */
  extra?: Record<string, Type<unknown>>;
  /** What 404 means, for a single resource. */
  notFound?: string;
  /** How a 404's detail names the resource, e.g. `product MUG-001`. */
  resource?: string;
}

/** What a view query's error responses show, each built by the function that answers it. */
function viewQueryExamples(doc: ViewQueryDoc): ProblemExamples {
  return {
    'unknown-query-parameter': PLUMBING_PROBLEMS['unknown-query-parameter'],
    'invalid-consistency-token': validationProblem([
      { field: 'header Consistency-Token', messages: ['not a consistency token returned by a command'] },
    ]).problem,
    'not-found': {
      type: problemType('not-found'),
      title: 'Not found',
      status: 404,
      detail: notFound(doc.resource ?? 'the resource').message,
    },
  };
}

/** Consistency headers, the envelope `{ data, view, page? }` and the View-* headers every view query shares. */
export function ApiViewQuery(doc: ViewQueryDoc): MethodDecorator {
  const single = doc.shape === 'single';
  const item = { $ref: getSchemaPath(doc.data) };
  const properties: Record<string, SchemaObject | ReferenceObject> = {
    data: single ? item : { type: 'array', items: item },
    view: { $ref: getSchemaPath(ViewMetaResponse) },
    ...(doc.shape === 'page' && { page: { $ref: getSchemaPath(PageResponse) } }),
    ...Object.fromEntries(Object.entries(doc.extra ?? {}).map(([name, type]) => [name, { $ref: getSchemaPath(type) }])),
  };
  const problems: Record<number, string> = { 400: `a parameter or the consistency token is malformed; ${BAD_QUERY}` };
  if (single) problems[404] = doc.notFound ?? 'not in the view (yet: send the consistency token of the write that made it)';
  const headers = headerRefs('View-Position', 'View-Lag-Events', 'View-Lag-Ms', 'View-Stale', 'Preference-Applied');
  return applyDecorators(
    ApiOperation({ operationId: doc.operationId, summary: doc.summary, description: doc.description }),
    ApiExtraModels(doc.data, ViewMetaResponse, PageResponse, ...Object.values(doc.extra ?? {})),
    ApiHeader({
      name: 'Consistency-Token',
      required: false,
      description: "a command's token: answer only once the view includes that write (or when the wait runs out, marked stale)",
    }),
    ApiHeader({
      name: 'Prefer',
      required: false,
      description: `\`wait=<seconds>\` bounds the wait for a consistency token (default 2, at most ${MAX_WAIT_MS / 1000})`,
      schema: { type: 'string', example: 'wait=2' },
    }),
    ...(single
      ? [ApiHeader({ name: 'If-None-Match', required: false, description: 'an ETag read before: 304 while it is current' })]
      : []),
    ApiResponse({
      status: 200,
      description: 'the view as of `view.position`',
      headers: single ? { ...headers, ...headerRefs('ETag') } : headers,
      schema: { type: 'object', required: Object.keys(properties), properties },
    }),
    ...(single ? [ApiResponse({ status: 304, description: 'If-None-Match names the current ETag', headers: headerRefs('ETag') })] : []),
    ApiProblems(problems, viewQueryExamples(doc)),
  );
}

/** Path parameters described once (the example in the schema: @nestjs/swagger drops a parameter's own example beside a schema). */
export const SKU_PARAM_SCHEMA: SchemaObject = { type: 'string', pattern: SKU_PATTERN.source, example: 'MUG-001' };
