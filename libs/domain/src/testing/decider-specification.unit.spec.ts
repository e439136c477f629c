import type { Command, Decider, DomainEvent } from '../common/decider';
import { BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from './decider-specification';

/** A counter that may be incremented up to a limit: enough to check the DSL itself fails when it should. */
type Incremented = DomainEvent<'Incremented', { by: number }>;
type Increment = Command<'Increment', { by: number }>;
const at = '2024-01-01T00:00:00.000Z';
const incremented = (by: number): Incremented => ({ type: 'Incremented', data: { by }, occurredAt: at });
const increment = (by: number): Increment => ({ type: 'Increment', data: { by }, occurredAt: at });

const counter: Decider<{ total: number }, Increment, Incremented> = {
  initialState: () => ({ total: 0 }),
  decide(command, state) {
    if (command.data.by < 0) throw new InvalidInput('by', 'must be ≥ 0');
    if (state.total + command.data.by > 10) throw new BusinessRuleViolation(`limit exceeded at ${state.total}`);
    return command.data.by === 0 ? [] : [incremented(command.data.by)];
  },
  evolve: (state, event) => ({ total: state.total + event.data.by }),
};
const spec = DeciderSpecification.for(counter);

describe('DeciderSpecification', () => {
  it('folds the given events before deciding', () => {
    spec
      .given([incremented(4), incremented(5)])
      .when(increment(1))
      .then([incremented(1)]);
    spec.given(incremented(4)).when(increment(1)).then(incremented(1));
    expect(() =>
      spec
        .given([incremented(4), incremented(5)])
        .when(increment(2))
        .then([incremented(2)]),
    ).toThrow('limit exceeded at 9');
  });

  it('then fails when the events differ', () => {
    expect(() =>
      spec
        .given([])
        .when(increment(2))
        .then([incremented(3)]),
    ).toThrow();
    expect(() => spec.given([]).when(increment(2)).then([])).toThrow();
  });

  it('thenNothing passes only when no event is emitted', () => {
    spec.given([]).when(increment(0)).thenNothing();
    expect(() => spec.given([]).when(increment(1)).thenNothing()).toThrow();
  });

  it('thenThrows checks the error class, message and predicate', () => {
    spec
      .given([incremented(10)])
      .when(increment(1))
      .thenThrows(BusinessRuleViolation);
    spec
      .given([incremented(10)])
      .when(increment(1))
      .thenThrows(BusinessRuleViolation, 'limit exceeded at 10');
    spec
      .given([incremented(10)])
      .when(increment(1))
      .thenThrows(BusinessRuleViolation, /at \d+$/);
    spec
      .given([])
      .when(increment(-1))
      .thenThrows(InvalidInput, (e) => e.field === 'by');

    expect(() => spec.given([]).when(increment(1)).thenThrows(BusinessRuleViolation)).toThrow(
      'expected decide() to throw BusinessRuleViolation',
    );
    expect(() => spec.given([]).when(increment(-1)).thenThrows(BusinessRuleViolation)).toThrow();
    expect(() =>
      spec
        .given([incremented(10)])
        .when(increment(1))
        .thenThrows(BusinessRuleViolation, 'at 3'),
    ).toThrow();
    expect(() =>
      spec
        .given([])
        .when(increment(-1))
        .thenThrows(InvalidInput, (e) => e.field === 'other'),
    ).toThrow('did not match');
  });

  it('fails a decider that mutates its command or state', () => {
    const mutating: typeof counter = {
      ...counter,
      decide(command, state) {
        state.total += command.data.by;
        return [];
      },
    };
    expect(() => DeciderSpecification.for(mutating).given([]).when(increment(1)).thenNothing()).toThrow(TypeError);
  });
});
