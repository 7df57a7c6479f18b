import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, validationProblem } from './problem';

/** Flattens class-validator's tree into `price.amount: must be an integer` style field errors. */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/** Strict validation: unknown fields are rejected, nothing is coerced from strings silently. */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
  });
}
