import type { NewEvent } from '../../src/contracts';
import { Decider, fold } from '../../write-model/shared/decider';

/** What `thenThrows` accepts: anything jest's toThrow does (an error class, a message, a RegExp, a matcher). */
type ThrownExpectation = Parameters<jest.Matchers<void>['toThrow']>[0];

/**
 * Decider specs in Emmett's shape: given(history).when(command).then(events) or
 * .thenThrows(expectations). The history is folded with the decider's own evolve.
 */
export function givenWhenThen<S, C, E extends NewEvent>(decider: Decider<S, C, E>) {
  return (given: E[]) => ({
    when: (command: C) => {
      const decide = () => decider.decide(command, fold(decider, given));
      return {
        /** Asserts the decided events (an empty list: nothing happens) and returns them. */
        then(expected: E[]): E[] {
          const events = decide();
          expect(events).toEqual(expected);
          return events;
        },
        /** Asserts the command is refused, the one error meeting every expectation given. */
        thenThrows(...expectations: ThrownExpectation[]): void {
          let decided: E[] | undefined;
          let thrown: unknown;
          try {
            decided = decide();
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
    },
  });
}
