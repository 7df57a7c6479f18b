/** A lost optimistic race: the stream moved on since the command was decided. */
export class ConcurrencyError extends Error {
  override name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`);
  }
}

/** The same idempotency key was used before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
  constructor(readonly key: string) {
    super(`idempotency key ${key} was already used with a different request`);
  }
}
