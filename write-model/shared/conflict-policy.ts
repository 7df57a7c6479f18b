import { isDeepStrictEqual } from 'node:util';
import type { NewEvent } from '../../src/contracts';
import type { Decider } from './decider';
import { DomainError, PreconditionFailed } from './domain-errors';

/** An event the client had not seen when it sent its command: its stream version and who caused it. */
export interface Intervening<E> {
  event: E;
  version: number;
  actor?: string;
}

/** What a command meets when its If-Match names an older version than the stream's. */
export interface StaleHistory<S, E> {
  streamId: string;
  /** The version the client saw (If-Match) and the state at it. */
  seenVersion: number;
  seen: S;
  /** The events after the version the client saw, oldest first. */
  since: Intervening<E>[];
  currentVersion: number;
  current: S;
}

/** How a policy settles a stale command: decide it against the current state, do nothing, or refuse it. */
export type Resolution =
  | { outcome: 'apply'; resolution: ConflictResolution }
  /** The current state already holds what the command asks for. */
  | { outcome: 'no-op'; resolution: ConflictResolution }
  /** Without an error: the version precondition itself fails (412). */
  | { outcome: 'conflict'; error?: DomainError };

/** What a client is told when its stale command was applied anyway (the Conflict-Resolution header). */
export type ConflictResolution = 'merged' | 'rebased';

export type ConflictPolicyKind = 'strict' | 'field-merge' | 'commutative';

export interface ConflictPolicy<S, C, E> {
  readonly kind: ConflictPolicyKind;
  /** The fields a field merge compares (documentation and tests read them). */
  readonly fields?: readonly string[];
  /** A domain rule on top of the kind, in a sentence (shown in the API documentation). */
  readonly rule?: string;
  resolve(command: C, history: StaleHistory<S, E>): Resolution;
}

/** One policy per command type: adding a command without declaring its policy does not compile. */
export type ConflictPolicies<S, C extends { type: string }, E> = {
  [T in C['type']]: ConflictPolicy<S, Extract<C, { type: T }>, E>;
};

/** Any change since the client's version refuses the command (412): for money and status transitions. */
export function strict<S, C, E>(): ConflictPolicy<S, C, E> {
  return { kind: 'strict', resolve: () => ({ outcome: 'conflict' }) };
}

/** Deltas commute: the command is decided against the current state, refused only by the decider's invariants. */
export function commutative<S, C, E>(): ConflictPolicy<S, C, E> {
  return { kind: 'commutative', resolve: () => ({ outcome: 'apply', resolution: 'rebased' }) };
}

/** One field a stale edit and the changes since disagree on. */
export interface FieldConflict {
  field: string;
  /** The value the client asked for. */
  requested: unknown;
  current: unknown;
  /** The stream version of the last change to the field since the client's version, and who made it. */
  changedInVersion: number;
  changedBy?: string;
}

/** A stale edit overlaps changes made since the client's version with other values (HTTP 409 `edit-conflict`). */
export class EditConflict extends DomainError {
  readonly kind = 'conflict';
  override name = 'EditConflict';

  constructor(
    readonly conflicts: FieldConflict[],
    versions: { expectedVersion: number; currentVersion: number },
    identity: Record<string, unknown> = {},
  ) {
    super(
      conflicts
        .map((c) => `${c.field} was changed in version ${c.changedInVersion}${c.changedBy ? ` by ${c.changedBy}` : ''}`)
        .join('; ') + ` after version ${versions.expectedVersion}, to other values than requested`,
      'edit-conflict',
      { ...identity, ...versions, conflicts },
    );
  }
}

/**
 * Field merge: the fields the command sets are compared with the fields changed by the events
 * since the client's version. No overlap: applied. Overlap with the values asked for: nothing to
 * do. Overlap with other values: an EditConflict naming each field, so the client can decide.
 */
export function fieldMerge<S, C, E, F extends keyof S & string>(options: {
  fields: readonly F[];
  /** The fields the command sets, with the values it sets them to (left-out fields are absent). */
  changes: (command: C) => Partial<Pick<S, F>>;
  evolve: (state: S, event: E) => S;
  /** Names the aggregate in the conflict, e.g. `{ sku }`. */
  identity?: (command: C) => Record<string, unknown>;
}): ConflictPolicy<S, C, E> {
  return {
    kind: 'field-merge',
    fields: options.fields,
    resolve(command, history) {
      const lastChange = new Map<F, Intervening<E>>();
      let state = history.seen;
      for (const intervening of history.since) {
        const next = options.evolve(state, intervening.event);
        for (const field of options.fields) {
          if (!isDeepStrictEqual(state[field], next[field])) lastChange.set(field, intervening);
        }
        state = next;
      }
      const wanted = Object.entries(options.changes(command)).filter(([, value]) => value !== undefined) as [F, unknown][];
      const conflicts = wanted.flatMap(([field, requested]): FieldConflict[] => {
        const change = lastChange.get(field);
        const current = history.current[field];
        if (!change || isDeepStrictEqual(requested, current)) return [];
        return [{ field, requested, current, changedInVersion: change.version, ...(change.actor && { changedBy: change.actor }) }];
      });
      if (conflicts.length > 0) {
        const versions = { expectedVersion: history.seenVersion, currentVersion: history.currentVersion };
        return { outcome: 'conflict', error: new EditConflict(conflicts, versions, options.identity?.(command)) };
      }
      const holds = wanted.every(([field, value]) => isDeepStrictEqual(value, history.current[field]));
      return { outcome: holds ? 'no-op' : 'apply', resolution: 'merged' };
    },
  };
}

/** The events a command is decided to append, and how a stale If-Match was resolved, if it was. */
export interface Decided<E> {
  events: E[];
  resolution?: ConflictResolution;
}

/**
 * Decides a command whose If-Match is older than the stream under its conflict policy (strict
 * when it has none): the policy settles the staleness, the decider still guards every invariant.
 */
export function decideStale<S, C extends { type: string }, E extends NewEvent>(
  decider: Decider<S, C, E>,
  policies: ConflictPolicies<S, C, E> | undefined,
  command: C,
  history: StaleHistory<S, E>,
): Decided<E> {
  const resolved = policyFor(policies, command).resolve(command, history);
  switch (resolved.outcome) {
    case 'conflict':
      throw resolved.error ?? new PreconditionFailed(history.streamId, history.seenVersion, history.currentVersion);
    case 'no-op':
      return { events: [], resolution: resolved.resolution };
    case 'apply':
      return { events: decider.decide(command, history.current), resolution: resolved.resolution };
  }
}

export function policyFor<S, C extends { type: string }, E>(
  policies: ConflictPolicies<S, C, E> | undefined,
  command: C,
): ConflictPolicy<S, C, E> {
  const declared = policies?.[command.type as C['type']];
  return declared ?? strict();
}
