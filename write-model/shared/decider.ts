import type { NewEvent } from '../../src/contracts';

/** An aggregate as a pure decider (Emmett's shape): no I/O, no framework. */
export interface Decider<State, Command, Event extends NewEvent> {
  initialState(): State;
  /**
   * Snapshots of this decider's state (plain JSON) are kept under this schema version. Bump it
   * whenever the state's shape or what evolve makes of an event changes: a snapshot of another
   * version is ignored and the state folded from the events. Without it, nothing is snapshotted.
   */
  snapshot?: { version: number };
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

export function fold<State, Event extends NewEvent>(
  decider: Pick<Decider<State, never, Event>, 'initialState' | 'evolve'>,
  events: readonly Event[],
  from: State = decider.initialState(),
): State {
  return events.reduce((state, event) => decider.evolve(state, event), from);
}
