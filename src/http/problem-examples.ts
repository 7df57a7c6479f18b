import type { OpenAPIObject } from '@nestjs/swagger';
import type { ExampleObject, ParameterObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { bodyParserProblem, Problem, problemType, validationProblem } from './problem';
import { unavailableProblem } from './unavailable';

/**
 * Example problem documents by name (the name is what the docs page's example list shows).
 * `instance` is left out: the document builder fills in each operation's own path.
 */
export type ProblemExamples = Record<string, Omit<Problem, 'instance'>>;

const bodyParser = (error: { type: string; message?: string; limit?: number }): Problem => bodyParserProblem(error)!;

/** What the shared HTTP plumbing answers, built by the same functions that answer it. */
export const PLUMBING_PROBLEMS = {
  'unknown-query-parameter': validationProblem([{ field: 'foo', messages: ['query parameter foo should not exist'] }]).problem,
  'unknown-field': validationProblem([{ field: 'foo', messages: ['property foo should not exist'] }]).problem,
  'malformed-json': bodyParser({ type: 'entity.parse.failed', message: "Expected property name or '}' in JSON at position 1" }),
  'not-found': { type: problemType('not-found'), title: 'Not found', status: 404, detail: 'Cannot GET /nowhere' },
  'payload-too-large': bodyParser({ type: 'entity.too.large', limit: 65536 }),
  'unsupported-media-type': {
    type: problemType('unsupported-media-type'),
    title: 'Unsupported media type',
    status: 415,
    detail: 'expected application/json, got text/plain',
  },
  unavailable: unavailableProblem('write store')(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }))!,
} satisfies ProblemExamples;

/** The examples an error response shows when its operation names none of its own for that status. */
const FALLBACK: Record<number, (keyof typeof PLUMBING_PROBLEMS)[]> = {
  400: ['unknown-query-parameter'],
  404: ['not-found'],
  413: ['payload-too-large'],
  415: ['unsupported-media-type'],
  503: ['unavailable'],
};

/**
 * The `examples` of one problem+json response: only those of its own status, so a 404 never
 * shows the 400 body that Swagger UI would otherwise build from the schema's property examples.
 */
export function problemExamplesFor(status: number, examples: ProblemExamples): Record<string, ExampleObject> {
  const own = Object.entries(examples).filter(([, problem]) => problem.status === status);
  const shown = own.length > 0 ? own : (FALLBACK[status] ?? []).map((name) => [name, PLUMBING_PROBLEMS[name]] as const);
  if (shown.length === 0) throw new Error(`no problem example for status ${status}: name one for the operation`);
  return Object.fromEntries(shown.map(([name, value]) => [name, { value: structuredClone(value) }]));
}

/** Sets every problem example's `instance` to its operation's path, with the path parameters' examples filled in. */
export function fillProblemInstances(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item) as { parameters?: ParameterObject[]; responses?: object }[]) {
      if (!operation?.responses) continue;
      const instance = path.replace(/\{(\w+)\}/g, (template, name: string) => {
        const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === name);
        const schema = parameter?.schema as { example?: unknown } | undefined;
        return String(parameter?.example ?? schema?.example ?? template);
      });
      for (const response of Object.values(operation.responses) as { content?: Record<string, { examples?: Record<string, ExampleObject> }> }[]) {
        for (const example of Object.values(response.content?.['application/problem+json']?.examples ?? {})) {
          example.value = { ...(example.value as object), instance };
        }
      }
    }
  }
}
