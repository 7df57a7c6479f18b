import { Ajv, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

export interface DocumentedOperation {
  api: string;
  method: string;
  path: string;
  operationId: string;
  operation: Record<string, any>;
}

export function operationsOf(api: string, document: OpenAPIObject): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => (item as Record<string, unknown>)[method]).map((method) => {
      const operation = (item as Record<string, any>)[method];
      return { api, method: method.toUpperCase(), path, operationId: operation.operationId, operation };
    }),
  );
}

/** Objects with listed properties allow nothing else unless they say so: a leaked internal field fails. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, key === 'example' ? value : closed(value)]));
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

/** Validates answers against a document's response schemas with ajv, `$ref`s resolved within the document. */
export class ResponseContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly base: string;

  constructor(api: string, document: OpenAPIObject) {
    addFormats(this.ajv);
    this.base = `urn:converge:openapi:${api}`;
    this.ajv.addSchema({ $id: this.base, components: closed(document.components) as object });
  }

  /** The documented response for a status, with its header names resolved. */
  response(operation: Record<string, any>, status: number): { content?: Record<string, { schema: unknown }>; headers: string[] } | undefined {
    const response = operation.responses?.[String(status)];
    if (!response) return undefined;
    return { content: response.content, headers: Object.keys(response.headers ?? {}) };
  }

  /** Problems with an answer: undocumented status, wrong media type, body off its schema, missing headers. */
  check(
    operation: Record<string, any>,
    answer: { status: number; contentType: string; headers: Headers; text: string },
  ): string[] {
    const documented = this.response(operation, answer.status);
    if (!documented) return [`status ${answer.status} is not documented (${Object.keys(operation.responses).join(', ')})`];
    const problems: string[] = [];
    if (answer.status < 400) {
      for (const header of documented.headers) {
        if (!answer.headers.has(header)) problems.push(`header ${header} is documented but missing`);
      }
    }
    if (!documented.content) {
      if (answer.text) problems.push(`status ${answer.status} documents no body, got ${answer.text.slice(0, 200)}`);
      return problems;
    }
    const mediaType = answer.contentType.split(';')[0].trim();
    const media = documented.content[mediaType];
    if (!media) return [...problems, `media type ${mediaType} is not documented for ${answer.status}`];
    const key = `${operation.operationId} ${answer.status} ${mediaType}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(this.rebase(closed(media.schema)) as object);
      this.compiled.set(key, validate);
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [...problems, `body is not JSON: ${answer.text.slice(0, 200)}`];
    }
    if (!validate(body)) {
      problems.push(`body off schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}: ${answer.text.slice(0, 500)}`);
    }
    return problems;
  }

  /** Local `#/components/...` refs point into the document registered under this contract's id. */
  private rebase(schema: unknown): unknown {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${this.base}#/components/`));
  }
}
