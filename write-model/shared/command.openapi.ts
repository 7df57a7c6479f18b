import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ApiCorrelationHeader, ApiProblems, BAD_QUERY, headerRefs } from '../../src/http/openapi';
import { PLUMBING_PROBLEMS, ProblemExamples } from '../../src/http/problem-examples';
import { problemType } from '../../src/http/problem';
import { ConcurrencyError, IdempotencyKeyReusedError } from '../event-store/errors';
import type { ConflictPolicy } from './conflict-policy';
import { DomainError, PreconditionFailed } from './domain-errors';
import { writeModelProblem } from './problems';

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
  /** The command's conflict policy (the one its handler applies): how an outdated If-Match is resolved. */
  conflicts?: Pick<ConflictPolicy<never, never, never>, 'kind' | 'fields' | 'rule'>;
  /** The stream the command appends to, as its 409 (race lost) and 412 examples name it. */
  stream: string;
  /** Domain outcomes of this command by status: 404, 409, 422. */
  problems?: Record<number, string>;
  /** One error of each domain reason the command can answer: its problem example, under its status. */
  errors?: DomainError[];
}

/** Every command checks these headers the same way (see command-http.ts). */
const INVALID_HEADER = {
  type: problemType('validation'),
  title: 'Invalid request',
  status: 400,
  detail: 'Idempotency-Key: must be 1-200 printable ASCII characters',
  errors: [{ field: 'header Idempotency-Key', messages: ['must be 1-200 printable ASCII characters'] }],
};

/** What a command's error responses show, each built by the mapping that answers it. */
function commandExamples(doc: CommandDoc, body: boolean, ifMatch: boolean): ProblemExamples {
  const mapped = (error: Error) => {
    const problem = writeModelProblem(error);
    if (!problem) throw new Error(`${error.name} has no problem mapping`);
    return problem;
  };
  const { 'unknown-field': unknownField, 'malformed-json': malformedJson } = PLUMBING_PROBLEMS;
  return {
    'unknown-field': unknownField,
    ...(body && { 'malformed-json': malformedJson }),
    'invalid-header': INVALID_HEADER,
    ...Object.fromEntries((doc.errors ?? []).map((error) => [error.reason, mapped(error)])),
    'concurrency-conflict': mapped(new ConcurrencyError(doc.stream, 3, 4)),
    ...(ifMatch && { 'precondition-failed': mapped(new PreconditionFailed(doc.stream, 3, 4)) }),
    'idempotency-key-reused': mapped(new IdempotencyKeyReusedError('7d0c5a4e-retry-of-this-request')),
  };
}

const code = (name: string) => `\`${name}\``;

/** The operation's description of its conflict policy: what a client sees after sending an outdated If-Match. */
function conflictText(policy: NonNullable<CommandDoc['conflicts']>): string {
  const rule = policy.rule ? ` Also, ${policy.rule}.` : '';
  switch (policy.kind) {
    case 'strict':
      return '**Conflict policy: strict**. With an `If-Match` older than the current version nothing is written and the answer is 412.';
    case 'field-merge':
      return (
        `**Conflict policy: field merge** (over ${(policy.fields ?? []).map(code).join(', ')}). With an \`If-Match\` older than ` +
        'the current version, the fields this command sets are compared with the fields changed since that version: no ' +
        'overlap → applied on top of those changes (200, `Conflict-Resolution: merged`); overlap with the values asked for → ' +
        '200 with `Conflict-Resolution: merged`, nothing written; overlap with other values → 409 `edit-conflict`, nothing ' +
        'written, listing each field in `conflicts` (`field`, `requested`, `current`, `changedInVersion`, `changedBy`) so ' +
        `you can decide.${rule}`
      );
    case 'commutative':
      return (
        '**Conflict policy: commutative**. Deltas commute: with an `If-Match` older than the current version the command ' +
        `is decided against the current state (200, \`Conflict-Resolution: rebased\`) and refused only by its invariants (409).${rule}`
      );
  }
}

/** The headers, success and error responses every command shares, plus its own domain errors. */
export function ApiCommand(doc: CommandDoc): MethodDecorator {
  const { body = true, ifMatch = true, conflicts } = doc;
  if (ifMatch && !conflicts) throw new Error(`${doc.operationId} checks If-Match: document its conflict policy`);
  const resolves = conflicts !== undefined && conflicts.kind !== 'strict';
  const problems: Record<number, string> = {
    400: `invalid body, path parameter, If-Match or Idempotency-Key; ${BAD_QUERY}`,
    409: 'the write lost an optimistic-concurrency race too often; retry it',
    422: 'Idempotency-Key reused with a different request',
  };
  if (ifMatch) {
    problems[412] = resolves
      ? 'If-Match names a version newer than the current one, or one the policy cannot resolve from (`"0"`: the client never saw the aggregate); nothing was written'
      : 'If-Match names a version other than the current one; nothing was written';
  }
  if (conflicts?.kind === 'field-merge' && doc.errors?.some((error) => error.reason === 'edit-conflict')) {
    problems[409] = `your edit and the changes since your If-Match set a field to different values (\`edit-conflict\`); or ${problems[409]}`;
  }
  if (body) {
    problems[413] = 'the body is larger than 64 kB';
    problems[415] = 'the body is not application/json';
  }
  for (const [status, text] of Object.entries(doc.problems ?? {})) {
    problems[Number(status)] = problems[Number(status)] ? `${text}; or ${problems[Number(status)]}` : text;
  }
  return applyDecorators(
    ApiOperation({
      operationId: doc.operationId,
      summary: doc.summary,
      description: [doc.description, conflicts && conflictText(conflicts)].filter(Boolean).join('\n\n') || undefined,
    }),
    ...(ifMatch
      ? [
          ApiHeader({
            name: 'If-Match',
            required: false,
            // No example: Swagger UI would send it with every try and the first one would answer 412.
            description:
              'the aggregate version the client last saw, as its ETag (`"3"`; `W/"3"` and `3` are accepted too). When the ' +
              "aggregate has moved on, the operation's conflict policy decides (412 for a strict one). Leave it out to " +
              'apply the command at any version.',
            schema: { type: 'string', pattern: '^\\s*(W/)?"?\\d{1,9}"?\\s*$' },
          }),
        ]
      : []),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      // No example: a fixed key sent with every try would replay, or refuse with 422, the tries after the first.
      description:
        '1-200 printable ASCII characters, fresh for each logical request (a UUID, say): a retry with the same key ' +
        'and request returns the first outcome and writes nothing; the same key with another request answers 422. ' +
        'Keys are kept per caller (token subject) and route: another caller never gets this outcome, nor a 422 for this key',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,200}$' },
    }),
    ApiCorrelationHeader(),
    ApiResponse({
      status: doc.created ? 201 : 200,
      description: resolves
        ? 'applied, or already holding what was asked for: the body and headers name the (new) version and the write; ' +
          '`Conflict-Resolution` says how an outdated If-Match was resolved'
        : 'applied: the body and headers name the new version and the write',
      type: CommandResultResponse,
      headers: resolves ? headerRefs('ETag', 'Consistency-Token', 'Conflict-Resolution') : headerRefs('ETag', 'Consistency-Token'),
    }),
    ApiProblems(problems, commandExamples(doc, body, ifMatch)),
  );
}
