import type { NewEvent } from '../../src/contracts';
import { Decider, fold } from './decider';

/** given(events).when(command) → the events decided, for decider unit tests. */
export function givenWhenThen<S, C, E extends NewEvent>(decider: Decider<S, C, E>) {
  return (given: E[]) => ({
    when: (command: C) => () => decider.decide(command, fold(decider, given)),
  });
}
