/**
 * The whole domain contract (after Emmett's decider): a command is decided against the state
 * folded from the stream's events. Everything here is pure: no I/O, no clock, no framework.
 */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  /** Business time (ISO 8601). Comes from the command, so decide() stays pure. */
  occurredAt: string;
}

export interface Command<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  occurredAt: string;
}

export interface Decider<State, Cmd extends Command, Evt extends DomainEvent> {
  initialState(): State;
  decide(command: Cmd, state: State): Evt[];
  evolve(state: State, event: Evt): State;
}

/** Folds events into state; the same fold serves command handling and `?asOf=` views. */
export function fold<State, Evt extends DomainEvent>(
  decider: Pick<Decider<State, never, Evt>, 'initialState' | 'evolve'>,
  events: Iterable<Evt>,
): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
