import type { Decider } from '../../write-model/shared/decider';
import { commutative } from '../../write-model/shared/conflict-policy';
import { PreconditionFailed } from '../../write-model/shared/domain-errors';
import { givenWhenThen } from './given-when-then';

type Tally = { type: 'Counted'; data: { by: number } };
class TooMany extends Error {}

/** A counter that refuses to pass 2: enough to see each assertion pass and fail. */
const counter: Decider<number, { type: 'Count'; by: number }, Tally> = {
  initialState: () => 0,
  decide: (command, total) => {
    if (total + command.by > 2) throw new TooMany(`${total} + ${command.by} is over 2`);
    return command.by === 0 ? [] : [{ type: 'Counted', data: { by: command.by } }];
  },
  evolve: (total, event) => total + event.data.by,
};
const given = givenWhenThen(counter);
const rebasing = givenWhenThen(counter, { Count: commutative() });
const counted = (by: number): Tally => ({ type: 'Counted', data: { by } });

describe('given/when/then for deciders', () => {
  it('folds the history and compares the decided events, returning them', () => {
    expect(given([counted(1)]).when({ type: 'Count', by: 1 }).then([counted(1)])).toEqual([counted(1)]);
    given([counted(1)]).when({ type: 'Count', by: 0 }).then([]);
    expect(() => given([]).when({ type: 'Count', by: 1 }).then([counted(2)])).toThrow();
    expect(() => given([]).when({ type: 'Count', by: 3 }).then([])).toThrow(TooMany);
  });

  it('checks every expectation against the one error thrown', () => {
    given([counted(2)]).when({ type: 'Count', by: 1 }).thenThrows(TooMany, /over 2/, '2 + 1');
    expect(() => given([counted(2)]).when({ type: 'Count', by: 1 }).thenThrows(TooMany, /under/)).toThrow();
    expect(() => given([counted(2)]).when({ type: 'Count', by: 1 }).thenThrows(RangeError)).toThrow();
  });

  it('fails thenThrows when the command is accepted, naming what it decided', () => {
    expect(() => given([]).when({ type: 'Count', by: 1 }).thenThrows()).toThrow(/refused.*Counted/);
    expect(() => given([]).when({ type: 'Count', by: 0 }).thenThrows(TooMany)).toThrow(/refused, it decided \[\]/);
  });

  it('resolves a command sent from an older version by its policy, checking the resolution too', () => {
    rebasing([counted(1)]).seenAt(0).when({ type: 'Count', by: 1 }).then([counted(1)], 'rebased');
    expect(() => rebasing([counted(1)]).seenAt(0).when({ type: 'Count', by: 1 }).then([counted(1)])).toThrow();
    rebasing([counted(1), counted(1)]).seenAt(1).when({ type: 'Count', by: 1 }).thenThrows(TooMany);
    given([counted(1)]).seenAt(0).when({ type: 'Count', by: 1 }).thenThrows(PreconditionFailed);
    expect(() => given([counted(1)]).seenAt(1)).toThrow(/not older/);
  });
});
