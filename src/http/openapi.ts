import { applyDecorators, INestApplication } from '@nestjs/common';
import { ApiHeader, ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { HeaderObject, OperationObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ACCESS_EXTENSION } from './access';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths';
import { fillProblemInstances, problemExamplesFor, ProblemExamples } from './problem-examples';

/** What tells the two APIs' documents apart; everything else is shared. */
export interface OpenApiInfo {
  title: string;
  description: string;
}

const PROBLEMS = `Errors are \`application/problem+json\` (RFC 9457) with a stable \`type\` per kind of error,
\`urn:converge:problem:<kind>\` (e.g. \`validation\`, \`malformed-json\`, \`not-found\`, \`unsupported-media-type\`,
\`payload-too-large\`, \`method-not-allowed\`, or a domain reason such as \`insufficient-stock\`). Validation errors list
\`errors: [{ field, messages }]\`. A path that exists for other methods answers 405 with \`Allow\`.`;

export const COMMAND_API: OpenApiInfo = {
  title: 'Converge command API',
  description: `Commands against event-sourced aggregates. Every successful command answers \`{ id, version, token }\` with
the new version as \`ETag\` and the write's \`Consistency-Token\`: pass that token to the query API to read your write.
Send \`If-Match\` with a version you read to refuse lost updates, and \`Idempotency-Key\` to retry safely. When the
aggregate moved on since that version, each command's conflict policy (in its description) decides: strict commands
answer 412, field-merge commands apply edits of fields nobody else changed (\`Conflict-Resolution: merged\`) and answer 409
\`edit-conflict\` with both values otherwise, commutative commands are rebased (\`Conflict-Resolution: rebased\`).
Money is \`{ "amount": <integer minor units>, "currency": "EUR" }\`.

${PROBLEMS}`,
};

export const QUERY_API: OpenApiInfo = {
  title: 'Converge query API',
  description: `Reads of denormalized views. Every answer says which position of the event log the view reflects
(\`view\` in the body, \`View-*\` headers). Send a command's consistency token (\`Consistency-Token\` header or
\`?after=\`) to wait, bounded by \`Prefer: wait=<seconds>\` (default 2, at most 10), until the view includes that write;
on time-out the answer is what the view has, marked \`stale\`. Single resources carry an \`ETag\` (the aggregate's
version) and answer 304 to a matching \`If-None-Match\`.

${PROBLEMS}`,
};

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/** Hand-written because the problem document is open to extension members, which decorators cannot say. */
const SCHEMAS: Record<string, SchemaObject> = {
  FieldError: {
    type: 'object',
    required: ['field', 'messages'],
    properties: {
      field: { type: 'string', description: 'dotted path of the field, or `header <Name>`', example: 'price.amount' },
      messages: { type: 'array', minItems: 1, items: { type: 'string' }, example: ['amount must be an integer number'] },
      in: { type: 'string', enum: ['body', 'query'], description: 'where the field was, when it is not obvious' },
    },
    additionalProperties: false,
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; domain errors add members such as `reason`, `currentVersion` or `sku`.',
    required: ['type', 'title', 'status', 'detail', 'instance'],
    properties: {
      type: { type: 'string', pattern: '^urn:converge:problem:[a-z0-9-]+$', example: 'urn:converge:problem:validation' },
      title: { type: 'string', example: 'Invalid request' },
      status: { type: 'integer', minimum: 400, maximum: 599, example: 400 },
      detail: { type: 'string', example: 'price.amount: amount must be an integer number' },
      instance: { type: 'string', description: 'the request target', example: '/products' },
      errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' }, description: 'validation errors only' },
      conflicts: {
        type: 'array',
        items: { $ref: '#/components/schemas/FieldConflict' },
        description: '`edit-conflict` only: each field your edit and the changes since your If-Match set to different values',
      },
    },
    additionalProperties: true,
  },
  FieldConflict: {
    type: 'object',
    required: ['field', 'requested', 'current', 'changedInVersion'],
    properties: {
      field: { type: 'string', example: 'name' },
      requested: { description: 'the value your command asked for', example: 'Mug, large' },
      current: { description: 'the value now', example: 'Mug, 350 ml' },
      changedInVersion: { type: 'integer', minimum: 1, description: 'the version that last changed the field', example: 4 },
      changedBy: { type: 'string', description: 'who changed it (the actor of that event), when known', example: 'alice' },
    },
    additionalProperties: false,
  },
};

/** Response headers shared by many operations, referenced from each response. */
export const RESPONSE_HEADERS: Record<string, HeaderObject> = {
  ETag: {
    description: 'the aggregate version, quoted (e.g. `"3"`): send it back as If-Match or If-None-Match',
    required: true,
    schema: { type: 'string', pattern: '^"\\d+"$', example: '"3"' },
  },
  'Consistency-Token': {
    description: "the write's consistency token (same as `token` in the body)",
    required: true,
    schema: { type: 'string', example: 'WyIxMjM0IiwxMCwicHJvZHVjdC1NVUctMDAxIiwxLDE3MDAwMDAwMDAwMDBd' },
  },
  'Conflict-Resolution': {
    description:
      'only when the command was sent with an outdated If-Match and its conflict policy applied it anyway: `merged` ' +
      '(field merge: the fields you set did not overlap the changes since, or already held your values) or `rebased` ' +
      '(a commutative delta decided against the current state)',
    schema: { type: 'string', enum: ['merged', 'rebased'] },
  },
  'View-Position': {
    description: 'global position of the last event the view has applied',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'View-Lag-Events': {
    description: 'events published but not yet applied to the view',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'View-Lag-Ms': {
    description: "how old the view's newest event is while it lags (0 when caught up)",
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'View-Stale': {
    description: 'only with a consistency token: `true` when the view had not applied that write within the wait',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
  'Preference-Applied': {
    description: 'only with a consistency token: the wait applied, e.g. `wait=2`',
    schema: { type: 'string', pattern: '^wait=\\d+(\\.\\d+)?$', example: 'wait=2' },
  },
};

export const headerRefs = (...names: (keyof typeof RESPONSE_HEADERS)[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

/**
 * One problem+json response per status, each with what it means for this operation and
 * examples of its own status: the operation's, else the shared plumbing's.
 */
export function ApiProblems(responses: Record<number, string>, examples: ProblemExamples = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(responses).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description,
        content: { 'application/problem+json': { schema: PROBLEM_REF, examples: problemExamplesFor(Number(status), examples) } },
      }),
    ),
  );
}

/** `?__proto__=` and friends are refused on every route by the shared middleware. */
export const BAD_QUERY = 'a query parameter is malformed or not allowed';

/** Request headers both APIs describe the same way. */
export const ApiCorrelationHeader = () =>
  ApiHeader({
    name: 'X-Correlation-Id',
    required: false,
    description: "carried into the events' metadata; generated when absent; 1-128 printable ASCII characters (400 otherwise)",
    schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,128}$' },
  });

/** The document for the app's routes, with the shared problem schema and headers. */
export function createOpenApiDocument(app: INestApplication, info: OpenApiInfo): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(packageVersion())
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'the server this document was fetched from')
    .build();
  config.components = structuredClone({ schemas: SCHEMAS, headers: RESPONSE_HEADERS });
  config.components.securitySchemes = {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'a token from your identity provider; in development `npx converge token --role admin` (npm start prints some)',
    },
  };
  const document = SwaggerModule.createDocument(app, config);
  // Every route needs a token unless it says it is public (the operation's own empty requirement).
  document.security = [{ bearer: [] }];
  applyAccess(document);
  const schemas = document.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) {
    // The validation pipe refuses unknown fields: request bodies say so.
    if (name.endsWith('Request') && 'properties' in schema) schema.additionalProperties ??= false;
  }
  fillProblemInstances(document);
  // Each API uses some of the shared headers; an unused component is noise (and a lint warning).
  const used = JSON.stringify(document.paths);
  for (const name of Object.keys(document.components?.headers ?? {})) {
    if (!used.includes(`"#/components/headers/${name}"`)) delete document.components!.headers![name];
  }
  return document;
}

const UNAUTHENTICATED = {
  type: 'urn:converge:problem:unauthenticated',
  title: 'Unauthenticated',
  status: 401,
  detail: 'a bearer token is required',
};

/** Turns each operation's access extension (from @Allowed/@Roles/@Public) into its security and its 401/403 answers. */
function applyAccess(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      const access = (operation as unknown as Record<string, unknown>)[ACCESS_EXTENSION] as { public?: true; roles?: string[] } | undefined;
      if (!access || typeof operation !== 'object' || !operation.responses) continue;
      delete (operation as unknown as Record<string, unknown>)[ACCESS_EXTENSION];
      if (access.public) {
        operation.security = [];
        continue;
      }
      const roles = access.roles ?? [];
      operation.description = `${operation.description ? `${operation.description}\n\n` : ''}Roles: ${roles.join(', ')}.`;
      operation.responses['401'] = problemResponse(
        'no bearer token, or one that is malformed, expired or wrongly signed (with `WWW-Authenticate`)',
        {
          unauthenticated: UNAUTHENTICATED,
        },
      );
      operation.responses['403'] = problemResponse(`the token's role may not call this (allowed: ${roles.join(', ')})`, {
        forbidden: {
          type: 'urn:converge:problem:forbidden',
          title: 'Forbidden',
          status: 403,
          detail: `role customer may not call this; allowed: ${roles.join(', ')}`,
        },
      });
    }
  }
}

function problemResponse(description: string, examples: Record<string, object>) {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: PROBLEM_REF,
        examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
      },
    },
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Serves the document at /openapi.json and a Swagger UI page at /docs (assets from swagger-ui-dist, no CDN). */
export function setupOpenApi(app: INestApplication, info: OpenApiInfo): OpenAPIObject {
  const document = createOpenApiDocument(app, info);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: info.title,
    // The token survives a reload of /docs: "Authorize" once per browser session.
    swaggerOptions: { displayOperationId: true, persistAuthorization: true },
  });
  return document;
}
