import type { NewEvent } from '../../src/contracts';
import { ConflictPolicies, ConflictResolution, Decided, decideStale, StaleHistory } from '../../write-model/shared/conflict-policy';
import { Decider, fold } from '../../write-model/shared/decider';

/** What `thenThrows` accepts: anything jest's toThrow does (an error class, a message, a RegExp, a matcher). */
type ThrownExpectation = Parameters<jest.Matchers<void>['toThrow']>[0];

/** An event of the history with the actor who caused it (as `metadata.actor` records it). */
export interface ByActor<E> {
  actor: string;
  event: E;
}

export const by = <E>(actor: string, event: E): ByActor<E> => ({ actor, event });

const attributed = <E>(item: E | ByActor<E>): item is ByActor<E> =>
  typeof item === 'object' && item !== null && 'actor' in item && 'event' in item;

/**
 * Decider specs in Emmett's shape: given(history).when(command).then(events) or
 * .thenThrows(expectations). The history is folded with the decider's own evolve.
 * given(history).seenAt(version).when(command) sends the command with If-Match naming that
 * older version: the events after it are the ones the client had not seen, resolved by the
 * command's conflict policy (`policies`, strict where none is given).
 */
export function givenWhenThen<S, C extends { type: string }, E extends NewEvent>(
  decider: Decider<S, C, E>,
  policies?: ConflictPolicies<S, C, E>,
) {
  return (given: (E | ByActor<E>)[]) => {
    const history = given.map((item, index) => ({
      version: index + 1,
      ...(attributed(item) ? item : { event: item }),
    }));
    const events = history.map((entry) => entry.event);
    const staleAt = (seenVersion: number): StaleHistory<S, E> => ({
      streamId: 'stream-under-test',
      seenVersion,
      seen: fold(decider, events.slice(0, seenVersion)),
      since: history.slice(seenVersion),
      currentVersion: events.length,
      current: fold(decider, events),
    });
    return {
      when: (command: C) => outcome(() => ({ events: decider.decide(command, fold(decider, events)) })),
      /** The client last saw the aggregate at `seenVersion` (If-Match), before the rest of the history. */
      seenAt: (seenVersion: number) => {
        if (seenVersion >= events.length) throw new Error(`seenAt(${seenVersion}) is not older than the history (${events.length})`);
        return { when: (command: C) => outcome(() => decideStale(decider, policies, command, staleAt(seenVersion))) };
      },
    };
  };
}

function outcome<E>(decide: () => Decided<E>) {
  return {
    /**
     * Asserts the decided events (an empty list: nothing happens) and how a stale If-Match was
     * resolved (none when left out), and returns the events.
     */
    then(expected: E[], resolution?: ConflictResolution): E[] {
      const decided = decide();
      expect(decided.events).toEqual(expected);
      expect(decided.resolution).toBe(resolution);
      return decided.events;
    },
    /** Asserts the command is refused, the one error meeting every expectation given. */
    thenThrows(...expectations: ThrownExpectation[]): void {
      let decided: E[] | undefined;
      let thrown: unknown;
      try {
        decided = decide().events;
      } catch (error) {
        thrown = error;
      }
      if (decided) throw new Error(`expected the command to be refused, it decided ${JSON.stringify(decided)}`);
      for (const expected of expectations) {
        expect(() => {
          throw thrown;
        }).toThrow(expected);
      }
    },
  };
}
