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
  /** Header values are text: `View-Position: 42` meets `type: integer`. */
  private readonly headerAjv = new Ajv({ strict: false, coerceTypes: true });
  private readonly compiledHeaders = new Map<string, ValidateFunction>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly base: string;
  /** The response headers the document defines once (ETag, View-*, ...): an answer may carry only those its response lists. */
  private readonly shared: Record<string, Record<string, any>>;

  constructor(api: string, document: OpenAPIObject) {
    addFormats(this.ajv);
    this.base = `urn:converge:openapi:${api}`;
    this.shared = (document.components?.headers ?? {}) as Record<string, Record<string, any>>;
    this.ajv.addSchema({ $id: this.base, components: closed(document.components) as object });
  }

  /** The documented response for a status, with its headers resolved. */
  response(
    operation: Record<string, any>,
    status: number,
  ): { content?: Record<string, { schema: unknown }>; headers: Record<string, Record<string, any>> } | undefined {
    const response = operation.responses?.[String(status)];
    if (!response) return undefined;
    const headers = Object.fromEntries(
      Object.entries((response.headers ?? {}) as Record<string, Record<string, any>>).map(([name, header]) => {
        const ref = typeof header.$ref === 'string' ? header.$ref.replace('#/components/headers/', '') : undefined;
        return [name, ref ? this.shared[ref] : header];
      }),
    );
    return { content: response.content, headers };
  }

  /**
   * Problems with an answer: undocumented status, wrong media type, body off its schema, a
   * required header missing, a header off its schema, a shared header this response does not list.
   */
  check(
    operation: Record<string, any>,
    answer: { status: number; contentType: string; headers: Headers; text: string },
  ): string[] {
    const documented = this.response(operation, answer.status);
    if (!documented) return [`status ${answer.status} is not documented (${Object.keys(operation.responses).join(', ')})`];
    const problems: string[] = [];
    if (answer.status < 400) {
      for (const [name, header] of Object.entries(documented.headers)) {
        const value = answer.headers.get(name);
        if (value === null) {
          if (header.required) problems.push(`header ${name} is documented as required but missing`);
          continue;
        }
        const validateHeader = this.headerValidator(header.schema ?? {});
        if (!validateHeader({ value })) {
          problems.push(`header ${name}: ${value} is off its schema: ${this.headerAjv.errorsText(validateHeader.errors)}`);
        }
      }
      // A 304 may repeat the headers its 200 would carry (RFC 9110, 15.4.5).
      const allowed = { ...(answer.status === 304 && this.response(operation, 200)?.headers), ...documented.headers };
      for (const name of Object.keys(this.shared)) {
        if (answer.headers.has(name) && !(name in allowed)) problems.push(`header ${name} is sent but not documented here`);
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

  private headerValidator(schema: unknown): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiledHeaders.get(key);
    if (!validate) {
      validate = this.headerAjv.compile({ type: 'object', properties: { value: schema } });
      this.compiledHeaders.set(key, validate);
    }
    return validate;
  }

  /** Local `#/components/...` refs point into the document registered under this contract's id. */
  private rebase(schema: unknown): unknown {
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${this.base}#/components/`));
  }
}
