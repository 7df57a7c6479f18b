import { Problem, problemType } from '../../src/http/problem';
import { ConcurrencyError, IdempotencyKeyReusedError } from '../event-store/errors';
import { DomainError, PreconditionFailed } from './domain-errors';

const STATUS = { 'not-found': 404, conflict: 409, invalid: 422 } as const;

/** How the write side's errors cross the HTTP boundary. */
export function writeModelProblem(error: unknown): Problem | undefined {
  if (error instanceof DomainError) {
    // "status" is the HTTP status in a problem document: an aggregate's status travels as currentStatus.
    const { status: currentStatus, ...details } = error.details;
    return {
      ...details,
      ...(currentStatus !== undefined && { currentStatus }),
      type: problemType(error.reason),
      title: error.kind === 'not-found' ? 'Not found' : error.kind === 'conflict' ? 'Conflict' : 'Unprocessable command',
      status: STATUS[error.kind],
      detail: error.message,
      reason: error.reason,
    };
  }
  if (error instanceof PreconditionFailed) {
    return {
      type: problemType('precondition-failed'),
      title: 'Precondition failed',
      status: 412,
      detail: error.message,
      expectedVersion: error.expectedVersion,
      currentVersion: error.actualVersion,
    };
  }
  if (error instanceof ConcurrencyError) {
    return {
      type: problemType('concurrency-conflict'),
      title: 'Conflict',
      status: 409,
      detail: `${error.message}; the write lost a race too often, retry it`,
    };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return {
      type: problemType('idempotency-key-reused'),
      title: 'Idempotency key reused',
      status: 422,
      detail: error.message,
    };
  }
  return undefined;
}
