import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ApiCorrelationHeader, ApiProblems, BAD_QUERY, headerRefs } from '../../src/http/openapi';

/** What every successful command answers (see CommandResult). */
export class CommandResultResponse {
  @ApiProperty({ description: 'the aggregate addressed: the sku, or the order id', example: 'MUG-001' })
  id!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: "the aggregate's version after the command (also the ETag)", example: 1 })
  version!: number;

  @ApiProperty({
    description: 'consistency token of the write: send it to the query API (Consistency-Token header or ?after=)',
    example: 'WyIxMjM0IiwxMCwicHJvZHVjdC1NVUctMDAxIiwxLDE3MDAwMDAwMDAwMDBd',
  })
  token!: string;
}

export interface CommandDoc {
  operationId: string;
  summary: string;
  description?: string;
  /** 201 for a command that creates its aggregate, 200 otherwise. */
  created?: boolean;
  /** Whether the command takes a JSON body (and so can meet 413 and 415). */
  body?: boolean;
  /** Whether the handler checks If-Match (POST /orders makes a new id, so it has nothing to check). */
  ifMatch?: boolean;
  /** Domain outcomes of this command by status: 404, 409, 422. */
  problems?: Record<number, string>;
}

/** The headers, success and error responses every command shares, plus its own domain errors. */
export function ApiCommand(doc: CommandDoc): MethodDecorator {
  const { body = true, ifMatch = true } = doc;
  const problems: Record<number, string> = {
    400: `invalid body, path parameter, If-Match or Idempotency-Key; ${BAD_QUERY}`,
    409: 'the write lost an optimistic-concurrency race too often; retry it',
    422: 'Idempotency-Key reused with a different request',
  };
  if (ifMatch) problems[412] = 'If-Match names a version other than the current one; nothing was written';
  if (body) {
    problems[413] = 'the body is larger than 64 kB';
    problems[415] = 'the body is not application/json';
  }
  for (const [status, text] of Object.entries(doc.problems ?? {})) {
    problems[Number(status)] = problems[Number(status)] ? `${text}; or ${problems[Number(status)]}` : text;
  }
  return applyDecorators(
    ApiOperation({ operationId: doc.operationId, summary: doc.summary, description: doc.description }),
    ...(ifMatch
      ? [
          ApiHeader({
            name: 'If-Match',
            required: false,
            description: 'the aggregate version the client last saw (an ETag such as `"3"`); 412 when it moved on',
            schema: { type: 'string', pattern: '^\\s*(W/)?"?\\d{1,9}"?\\s*$', example: '"3"' },
          }),
        ]
      : []),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'a retry with the same key and request returns the first outcome and writes nothing',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$', example: 'b7c1c7e2-place-1' },
    }),
    ApiCorrelationHeader(),
    ApiHeader({ name: 'X-Actor', required: false, description: "who asked, recorded in the events' metadata" }),
    ApiResponse({
      status: doc.created ? 201 : 200,
      description: 'applied: the body and headers name the new version and the write',
      type: CommandResultResponse,
      headers: headerRefs('ETag', 'Consistency-Token'),
    }),
    ApiProblems(problems),
  );
}
