/** Typed domain errors; the HTTP boundary maps each kind to a problem+json status. */
export abstract class DomainError extends Error {
  abstract readonly kind: 'not-found' | 'conflict' | 'invalid';
  constructor(
    message: string,
    /** Machine-readable reason, e.g. 'insufficient-stock'. */
    readonly reason: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The thing the command addresses does not exist (HTTP 404). */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
  override name = 'NotFoundError';
}

/** The command breaks an invariant given the current state (HTTP 409). */
export class InvariantViolation extends DomainError {
  readonly kind = 'conflict';
  override name = 'InvariantViolation';
}

/** The command is well-formed but semantically unacceptable (HTTP 422). */
export class InvalidCommand extends DomainError {
  readonly kind = 'invalid';
  override name = 'InvalidCommand';
}

/** If-Match named a version other than the aggregate's current one (HTTP 412). */
export class PreconditionFailed extends Error {
  override name = 'PreconditionFailed';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`${streamId} is at version ${actualVersion}, If-Match expected ${expectedVersion}`);
  }
}
