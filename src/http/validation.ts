import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, ValidateIf } from 'class-validator';
import { FieldError, NOT_AN_OBJECT, validationProblem } from './problem';

/** Flattens class-validator's tree into `price.amount: must be an integer` style field errors. */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: messagesOf(error.constraints) }] : [];
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/** The checks of a field's presence and type: a value that fails one fails every other check too. */
const TYPE_CHECKS = ['isDefined', 'isString', 'isInt', 'isNumber', 'isBoolean', 'isObject', 'isArray'];

/** A missing or mistyped value is told what it must be, not every range and pattern it also misses. */
function messagesOf(constraints: Record<string, string>): string[] {
  const typeErrors = TYPE_CHECKS.filter((name) => name in constraints).map((name) => constraints[name]);
  return typeErrors.length ? typeErrors : Object.values(constraints);
}

/** A JSON array where a body DTO is expected: class-validator would list its indexes as unknown properties. */
class ObjectBodyValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && Array.isArray(value) && this.toValidate(metadata)) {
      throw validationProblem([{ field: 'body', messages: [NOT_AN_OBJECT] }]);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** Strict validation: unknown fields are rejected, nothing is coerced from strings silently. */
export function strictValidationPipe(): ValidationPipe {
  return new ObjectBodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
  });
}

/** Text PostgreSQL can store and humans can read: well-formed UTF-16, no control characters but tab/newline. */
export function CleanText(): PropertyDecorator {
  return ValidateBy({
    name: 'cleanText',
    validator: {
      validate: (value: unknown) =>
        // eslint-disable-next-line no-control-regex -- finding control characters is the point
        typeof value !== 'string' || (value.isWellFormed() && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)),
      defaultMessage: (args) => `${args?.property} must not contain control characters or malformed Unicode`,
    },
  });
}

/** Letters, digits, punctuation or symbols, minus the fillers that render as nothing (Hangul fillers). */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;
const INVISIBLE_LETTERS = /[\u115f\u1160\u3164\uffa0]/gu;

/** A name must show something: whitespace, invisible and format characters alone (NBSP, ZWSP, RLO) are refused. */
export function VisibleText(): PropertyDecorator {
  return ValidateBy({
    name: 'visibleText',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || VISIBLE.test(value.replace(INVISIBLE_LETTERS, '')),
      defaultMessage: (args) => `${args?.property} must contain visible characters`,
    },
  });
}

/** Optional, but when present it must be valid: unlike @IsOptional, null is not "absent". */
export function OptionalField(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined);
}

/** A numeric query parameter: "" and "abc" stay invalid instead of becoming 0 or NaN-accepted. */
export function NumberParam(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value));
}

/**
 * class-transformer silently drops `__proto__`, `constructor` and `prototype`, and class-validator
 * takes the names of Object.prototype's members (`valueOf`, `toString`, ...) for known fields: the
 * unknown-field check would never see either.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/** The first reserved key at any depth (bounded: the depth limit runs before). */
export function reservedKey(value: unknown, depth = 0): string | undefined {
  if (!value || typeof value !== 'object' || depth > 32) return undefined;
  for (const key of Object.keys(value)) {
    if (RESERVED_KEYS.has(key)) return key;
    const nested = reservedKey((value as Record<string, unknown>)[key], depth + 1);
    if (nested) return `${key}.${nested}`;
  }
  return undefined;
}

/**
 * For routes that take no body (or no query parameters): anything sent is refused like an
 * unknown field elsewhere, instead of being silently ignored.
 */
@Injectable()
export class NothingElse implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (Array.isArray(value)) throw validationProblem([{ field: metadata.type === 'query' ? 'query' : 'body', messages: ['must be empty or {}'] }]);
    const fields = value && typeof value === 'object' ? Object.keys(value) : [];
    if (fields.length === 0) return value;
    const where = metadata.type === 'query' ? 'query parameter' : 'property';
    throw validationProblem(fields.map((field) => ({ field, messages: [`${where} ${field} should not exist`] })));
  }
}
