import * as fc from 'fast-check';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DocumentedOperation, operationsOf } from './openapi-contract';

/** A request the fuzz test sends: every one of them is malformed in at least one way. */
export interface MalformedRequest {
  /** What was broken (for the failure message). */
  mutation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Schema = Record<string, any>;
const ANY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const DEEP_LIMIT = 32;

/** `$ref`s resolved within the document (the DTO schemas are all in components). */
function resolve(document: OpenAPIObject, schema: Schema | undefined): Schema {
  let current = schema ?? {};
  for (let i = 0; i < 10 && current.$ref; i++) {
    const name = String(current.$ref).split('/').pop()!;
    current = (document.components?.schemas?.[name] as Schema) ?? {};
  }
  return current;
}

/** A plausible body from the schema's examples: a base that each mutation then breaks for certain. */
function exampleOf(document: OpenAPIObject, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(document, schema);
  if (s.example !== undefined) return s.example;
  if (depth > 4) return null;
  if (s.type === 'array' || s.items) return [exampleOf(document, s.items, depth + 1)];
  if (s.properties)
    return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, exampleOf(document, v as Schema, depth + 1)]));
  if (s.allOf) return exampleOf(document, s.allOf[0], depth + 1);
  if (s.type === 'integer' || s.type === 'number') return s.minimum ?? 1;
  if (s.type === 'boolean') return true;
  return 'x';
}

const jsonValueOfOtherType = (type: string | undefined) => {
  const all: [string, fc.Arbitrary<unknown>][] = [
    ['string', fc.string({ maxLength: 20 })],
    ['number', fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer())],
    ['integer', fc.integer()],
    ['boolean', fc.boolean()],
    ['object', fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 })],
    ['array', fc.array(fc.integer(), { maxLength: 3 })],
    ['null', fc.constant(null)],
  ];
  // A number is not an integer's other type, nor the other way round: both can hold 3.
  const same = type === 'integer' || type === 'number' ? ['integer', 'number'] : [type];
  return fc.oneof(...all.filter(([t]) => !same.includes(t)).map(([, arb]) => arb));
};

/** A string the pattern refuses (or a generic one when the schema has none). */
const notMatching = (pattern: string | undefined, fallback: fc.Arbitrary<string>) =>
  pattern ? fc.string({ unit: 'binary', maxLength: 80 }).filter((s) => !new RegExp(pattern, 'u').test(s)) : fallback;

function pathOf(op: DocumentedOperation, values: Record<string, string>): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
}

const GOOD_PATH_VALUES: Record<string, string> = { sku: 'FUZZ-1', id: '0b6f3c52-9d4e-4b8a-a1f7-5f2c8e9d7a31' };

/**
 * Malformed requests for every operation of a document: broken bodies (unknown or reserved
 * fields, wrong types, malformed JSON, deep nesting, oversize), media types and encodings,
 * headers, query strings, path parameters, methods and tokens. Each one is invalid for certain,
 * so a 2xx (or a change to the event log) is a defect, like a 5xx.
 */
export function malformedRequests(document: OpenAPIObject, api: string, authorization: string): fc.Arbitrary<MalformedRequest> {
  const operations = operationsOf(api, document).filter((op) => !op.path.startsWith('/health/'));
  return fc.oneof(...operations.map((op) => malformedFor(document, op, authorization)));
}

function malformedFor(document: OpenAPIObject, op: DocumentedOperation, authorization: string): fc.Arbitrary<MalformedRequest> {
  const parameters = (op.operation.parameters ?? []) as Schema[];
  const pathParams = parameters.filter((p) => p.in === 'path');
  const queryParams = parameters.filter((p) => p.in === 'query');
  const headerNames = new Set(parameters.filter((p) => p.in === 'header').map((p) => String(p.name).toLowerCase()));
  const bodySchema = op.operation.requestBody?.content?.['application/json']?.schema as Schema | undefined;
  const takesBody = op.method !== 'GET';
  const isPublic = Array.isArray(op.operation.security) && op.operation.security.length === 0;
  const base = takesBody && bodySchema ? (exampleOf(document, bodySchema) as Record<string, unknown>) : {};
  const properties = Object.keys(resolve(document, bodySchema).properties ?? {});
  const path = pathOf(op, GOOD_PATH_VALUES);
  const json = { 'content-type': 'application/json' };
  const request = (mutation: string, rest: Partial<MalformedRequest>): MalformedRequest => ({
    mutation,
    method: op.method,
    path,
    headers: { authorization, ...(rest.body !== undefined ? json : {}), ...rest.headers },
    ...(rest.body !== undefined && { body: rest.body }),
    ...(rest.path && { path: rest.path }),
    ...(rest.method && { method: rest.method }),
  });
  const variants: fc.Arbitrary<MalformedRequest>[] = [];

  // An unknown query parameter: every read refuses those (commands read no query string).
  if (!takesBody)
    variants.push(
      fc
        .tuple(fc.stringMatching(/^[a-z_][a-zA-Z0-9_]{0,15}$/), fc.string({ maxLength: 20 }))
        .filter(([name]) => !queryParams.some((p) => p.name === name))
        .map(([name, value]) => request('unknown query parameter', { path: `${path}?${new URLSearchParams({ [name]: value }).toString()}` })),
    );
  // A documented query parameter with a value its schema refuses.
  for (const param of queryParams) {
    const schema = resolve(document, param.schema);
    let bad: fc.Arbitrary<string> | undefined;
    if (schema.type === 'integer' || schema.type === 'number')
      bad = fc.oneof(
        fc.constantFrom('abc', '1e9', '0x10', '', '-1', '1.5', 'NaN', 'Infinity', '99999999999999999999'),
        fc.string({ maxLength: 6 }).filter((s) => !/^\d+$/.test(s)),
      );
    else if (schema.type === 'boolean') bad = fc.string({ maxLength: 8 }).filter((s) => s !== 'true' && s !== 'false');
    else if (schema.enum) bad = fc.string({ maxLength: 12 }).filter((s) => !schema.enum.includes(s));
    else if (schema.pattern) bad = notMatching(schema.pattern, fc.string());
    else if (schema.format === 'date') bad = fc.string({ maxLength: 12 }).filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s));
    else if (param.name === 'cursor' || param.name === 'after')
      bad = fc.oneof(fc.base64String({ maxLength: 60 }), fc.string({ maxLength: 40 }));
    if (!bad) continue;
    // Where the integer is in range the value is valid: keep the refused ones only.
    const refused =
      schema.type === 'integer'
        ? bad.filter((v) => !(/^\d+$/.test(v) && Number(v) >= (schema.minimum ?? 0) && Number(v) <= (schema.maximum ?? Infinity)))
        : bad;
    variants.push(
      refused.map((value) => request(`bad query ${param.name}`, { path: `${path}?${new URLSearchParams({ [param.name]: value }).toString()}` })),
    );
  }
  // A path parameter its route refuses.
  for (const param of pathParams) {
    const schema = resolve(document, param.schema);
    const bad =
      schema.format === 'uuid'
        ? fc
            .string({ unit: 'binary', minLength: 1, maxLength: 60 })
            .filter((s) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s))
        : notMatching(schema.pattern ?? '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', fc.string({ minLength: 1 }));
    variants.push(
      bad
        .filter((s) => s.length > 0 && s !== '.' && s !== '..')
        .map((value) =>
          request(`bad path ${param.name}`, {
            path: pathOf(op, { ...GOOD_PATH_VALUES, [param.name]: value }),
            body: takesBody ? JSON.stringify(base) : undefined,
          }),
        ),
    );
  }
  // A method the path does not have.
  const pathItem = document.paths[op.path] as Record<string, unknown>;
  const others = ANY_METHODS.filter((m) => !pathItem[m.toLowerCase()]);
  if (others.length) variants.push(fc.constantFrom(...others).map((method) => request('other method', { method })));
  // No valid token on a protected route.
  if (!isPublic) {
    variants.push(
      fc
        .oneof(
          fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', `${authorization}x`, authorization.slice(0, -4)),
          fc.stringMatching(/^Bearer [A-Za-z0-9._-]{0,80}$/),
        )
        .map((value) => request('bad token', { headers: { authorization: value }, body: takesBody ? JSON.stringify(base) : undefined })),
    );
  }
  // Any Content-Encoding but identity.
  variants.push(
    fc
      .oneof(fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'gzip, br', 'x-gzip'), fc.stringMatching(/^[a-z]{1,12}$/))
      .filter((coding) => coding !== 'identity')
      .map((coding) =>
        request('content encoding', { headers: { 'content-encoding': coding }, body: takesBody ? JSON.stringify(base) : undefined }),
      ),
  );
  // Headers a route reads, with values it refuses.
  const badHeaders: [string, fc.Arbitrary<string>][] = [
    [
      'x-correlation-id',
      fc.oneof(fc.string({ minLength: 129, maxLength: 2000, unit: fc.constantFrom('a', 'b', '-') }), fc.constantFrom('a\tb', '')),
    ],
    ['if-match', fc.oneof(fc.constantFrom('abc', '"-1"', '"1.5"', 'W/"x"', '"9999999999"', '*'), fc.stringMatching(/^[a-z"]{1,12}$/))],
    ['idempotency-key', fc.oneof(fc.constantFrom('', 'a b', 'k'.repeat(201)))],
    [
      'consistency-token',
      fc.oneof(fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'Z', '0', '.', '-', '_') }), fc.constantFrom('', 'x')),
    ],
  ];
  for (const [name, arb] of badHeaders) {
    // Commands read the first three, reads the token.
    const readBy = name === 'consistency-token' ? !takesBody : takesBody;
    if (!headerNames.has(name) || !readBy) continue;
    variants.push(
      arb
        .filter((v) => v !== '')
        .map((value) => request(`bad ${name}`, { headers: { [name]: value }, body: takesBody ? JSON.stringify(base) : undefined })),
    );
  }

  if (takesBody) {
    const withBody = (mutation: string, body: fc.Arbitrary<string>, headers: Record<string, string> = {}) =>
      variants.push(body.map((b) => request(mutation, { body: b, headers })));
    withBody(
      'unknown field',
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 20 }), jsonValueOfOtherType(undefined))
        .filter(([name]) => !properties.includes(name))
        .map(([name, value]) => JSON.stringify({ ...base, [name]: value })),
    );
    withBody(
      'reserved field',
      fc
        .tuple(
          fc.constantFrom(
            '__proto__',
            'constructor',
            'prototype',
            'valueOf',
            'toString',
            'hasOwnProperty',
            'isPrototypeOf',
            '__defineGetter__',
          ),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map(
          ([name, value]) =>
            `{${JSON.stringify(name)}:${JSON.stringify(value ?? null)}${properties.length ? `,${JSON.stringify(base).slice(1)}` : '}'}`,
        ),
    );
    if (properties.length) {
      const schema = resolve(document, bodySchema);
      withBody(
        'wrong type',
        fc.constantFrom(...properties).chain((name) => {
          const prop = resolve(document, schema.properties[name]);
          const type = prop.type ?? (prop.properties ? 'object' : undefined);
          return jsonValueOfOtherType(type).map((value) => JSON.stringify({ ...base, [name]: value }));
        }),
      );
      withBody(
        'deep nesting',
        fc
          .tuple(fc.constantFrom(...properties), fc.integer({ min: DEEP_LIMIT + 1, max: 3000 }), fc.boolean())
          .map(([name, depth, arrays]) => {
            const deep = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
            return `{${properties
              .filter((p) => p !== name)
              .map((p) => `${JSON.stringify(p)}:${JSON.stringify(base[p])},`)
              .join('')}${JSON.stringify(name)}:${deep}}`;
          }),
      );
    } else {
      withBody(
        'any body on a body-less route',
        fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.integer(), { minKeys: 1, maxKeys: 3 }).map((b) => JSON.stringify(b)),
      );
    }
    withBody(
      'malformed JSON',
      fc
        .string({ maxLength: 60 })
        .map((s) => `{${s}`)
        .filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
    );
    withBody('not JSON', fc.string({ minLength: 1, maxLength: 60 }), { 'content-type': 'text/plain' });
    withBody('wrong media type', fc.constant(JSON.stringify(base)), { 'content-type': 'application/x-www-form-urlencoded' });
    withBody(
      'JSON scalar or array',
      fc.oneof(
        fc.constantFrom('[]', 'null', '1', '"x"', 'true'),
        fc.array(fc.integer(), { maxLength: 3 }).map((a) => JSON.stringify(a)),
      ),
    );
    // Over the 64 kB limit: rare, they are large.
    variants.push(
      fc
        .integer({ min: 65 * 1024 + 1, max: 80 * 1024 })
        .map((size) => request('oversize', { body: JSON.stringify({ ...base, padding: 'p'.repeat(size) }) })),
    );
  }
  return fc.oneof(...variants);
}
