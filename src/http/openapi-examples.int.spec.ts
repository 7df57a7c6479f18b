import type { OpenAPIObject } from '@nestjs/swagger';
import { buildOpenApiDocuments } from '../../test/support/openapi-documents';

type Json = Record<string, any>;

/** Resolves a local `$ref` (`#/components/...`) once; anything else is returned as it is. */
function resolve(document: OpenAPIObject, node: Json | undefined): Json | undefined {
  const ref = node?.$ref as string | undefined;
  if (!ref?.startsWith('#/')) return node;
  return ref
    .slice(2)
    .split('/')
    .reduce<Json | undefined>((at, key) => at?.[key], document as Json);
}

function operationsOf(document: OpenAPIObject): { where: string; operation: Json }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([, operation]) => operation && typeof operation === 'object' && 'responses' in operation)
      .map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })),
  );
}

/** Everything Swagger UI prefills a parameter from: its examples, content examples, example, schema example/default, default. */
function prefills(document: OpenAPIObject, parameter: Json): string[] {
  const schema = resolve(document, parameter.schema);
  const found = [
    ['example', parameter.example],
    ['examples', parameter.examples],
    ['default', parameter.default],
    ['schema.example', schema?.example],
    ['schema.examples', schema?.examples],
    ['schema.default', schema?.default],
    ...Object.entries((parameter.content ?? {}) as Json).flatMap(([type, media]) => [
      [`content.${type}.example`, media?.example],
      [`content.${type}.examples`, media?.examples],
    ]),
  ];
  return found.filter(([, value]) => value !== undefined).map(([name]) => name as string);
}

/** The problem+json example bodies of one response: `example` and every entry of `examples`. */
function problemExamples(document: OpenAPIObject, response: Json): { name: string; value: Json }[] {
  const media = resolve(document, response)?.content?.['application/problem+json'];
  if (!media) return [];
  const shown = media.example === undefined ? [] : [{ name: 'example', value: media.example }];
  for (const [name, entry] of Object.entries((media.examples ?? {}) as Json)) {
    shown.push({ name: `examples.${name}`, value: resolve(document, entry)?.value });
  }
  return shown;
}

/**
 * What the docs page ("Try it out") sends and shows by default: a command tried with the
 * prefilled values must not fail on a header the page filled in, and every error response
 * shows a problem of its own status.
 */
describe('OpenAPI examples', () => {
  let documents: { command: OpenAPIObject; query: OpenAPIObject };
  beforeAll(async () => {
    documents = await buildOpenApiDocuments();
  });

  it('prefills no header parameter of any command API operation', () => {
    const { command } = documents;
    const headers = new Set<string>();
    const prefilled: string[] = [];
    for (const { where, operation } of operationsOf(command)) {
      for (const parameter of ((operation.parameters ?? []) as Json[]).map((p) => resolve(command, p)!)) {
        if (parameter.in !== 'header') continue;
        headers.add(parameter.name);
        for (const source of prefills(command, parameter)) prefilled.push(`${where} ${parameter.name}: ${source}`);
      }
    }
    expect([...headers]).toEqual(expect.arrayContaining(['If-Match', 'Idempotency-Key']));
    expect(prefilled).toEqual([]);
  });

  it.each(['command', 'query'] as const)('the %s API shows, for every error response, problems of its own status', (api) => {
    const document = documents[api];
    let problemResponses = 0;
    const wrong: string[] = [];
    for (const { where, operation } of operationsOf(document)) {
      for (const [code, response] of Object.entries(operation.responses as Json)) {
        if (Number(code) < 400 || !resolve(document, response)?.content?.['application/problem+json']) continue;
        problemResponses += 1;
        const shown = problemExamples(document, response);
        // Without an example of its own, Swagger UI builds one from the schema: the 400 validation body.
        if (shown.length === 0) wrong.push(`${where} ${code}: no example`);
        for (const { name, value } of shown) {
          if (value?.status !== Number(code)) wrong.push(`${where} ${code} ${name}: status ${value?.status}`);
        }
      }
    }
    expect(problemResponses).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('shows each command error of its own kind', () => {
    const responses = documents.command.paths['/products/{sku}'].patch!.responses as Json;
    const kinds = (code: number) =>
      problemExamples(documents.command, responses[code]).map(({ value }) => String(value.type).replace('urn:converge:problem:', ''));
    expect(kinds(404)).toEqual(['unknown-product']);
    expect(kinds(409)).toEqual(['edit-conflict', 'product-discontinued', 'concurrency-conflict']);
    expect(kinds(412)).toEqual(['precondition-failed']);
    expect(kinds(413)).toEqual(['payload-too-large']);
    expect(kinds(415)).toEqual(['unsupported-media-type']);
    expect(kinds(422)).toEqual(['idempotency-key-reused']);
    const [notFound] = problemExamples(documents.command, responses[404]);
    expect(notFound.value.instance).toBe('/products/MUG-001');
  });

  it("describes each command's conflict policy in its description and its answers", () => {
    const { command } = documents;
    const policies: Record<string, [string, string, string, string?]> = {
      registerProduct: ['post', '/products', 'strict'],
      updateProductDetails: ['patch', '/products/{sku}', 'field merge', 'merged'],
      changeProductPrice: ['put', '/products/{sku}/price', 'strict'],
      discontinueProduct: ['post', '/products/{sku}/discontinue', 'field merge', 'merged'],
      receiveStock: ['post', '/inventory/{sku}/receipts', 'commutative', 'rebased'],
      adjustStock: ['post', '/inventory/{sku}/adjustments', 'commutative', 'rebased'],
      cancelOrder: ['post', '/orders/{id}/cancel', 'strict'],
      shipOrder: ['post', '/orders/{id}/ship', 'strict'],
    };
    for (const [operationId, [method, path, policy, resolution]] of Object.entries(policies)) {
      const operation = (command.paths[path] as Json)[method];
      const ok = operation.responses[200] ?? operation.responses[201];
      const described = {
        operationId,
        policy: /\*\*Conflict policy: ([a-z ]+)\*\*/.exec(operation.description ?? '')?.[1],
        header: Object.keys(ok.headers).includes('Conflict-Resolution'),
      };
      expect(described).toEqual({ operationId, policy, header: resolution !== undefined });
    }
    const patch = (command.paths['/products/{sku}'] as Json).patch;
    expect(patch.description).toContain('discontinuation wins');
    expect(patch.responses[409].description).toContain('edit-conflict');
    const [conflict] = problemExamples(command, patch.responses[409]);
    expect(conflict.value.conflicts).toEqual([expect.objectContaining({ field: 'name', requested: expect.any(String), current: expect.any(String) })]);
    expect(resolve(command, { $ref: '#/components/headers/Conflict-Resolution' })?.schema.enum).toEqual(['merged', 'rebased']);
  });
});
