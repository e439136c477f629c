/// <reference types="jest" />
/**
 * A tiny given/when/then DSL for deciders (after Emmett's `DeciderSpecification`), so tests read
 * as specifications:
 *
 *   DeciderSpecification.for(taskDecider)
 *     .given([taskCreated])
 *     .when(completeTask)
 *     .then([taskCompleted]);
 *
 * `given` events are folded with `evolve` from `initialState()`, `decide` runs on the result, and
 * the outcome is asserted with jest's `expect`. The command and the folded state are deep-frozen
 * first, so a decider that mutates its inputs fails the test. Plain TypeScript: jest globals only.
 */
import type { Command, Decider, DomainEvent } from '../common/decider';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** Checks a thrown error: a substring of its message, a pattern, or a predicate on the error. */
export type ErrorMatcher<E extends Error> = string | RegExp | ((error: E) => boolean | void);

export interface DeciderThen<Evt> {
  /** decide() returns exactly these events (data and occurredAt included), in this order. */
  then(expected: Evt | Evt[]): void;
  /** decide() throws an instance of `errorClass`, optionally matching `matcher`. */
  thenThrows<E extends Error>(errorClass: ErrorClass<E>, matcher?: ErrorMatcher<E>): void;
  /** decide() accepts the command and emits no events (an idempotent no-op). */
  thenNothing(): void;
}

export interface DeciderWhen<Cmd, Evt> {
  when(command: Cmd): DeciderThen<Evt>;
}

export interface DeciderGiven<Cmd, Evt> {
  given(events: Evt | Evt[]): DeciderWhen<Cmd, Evt>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

export const DeciderSpecification = {
  for<State, Cmd extends Command, Evt extends DomainEvent>(decider: Decider<State, Cmd, Evt>): DeciderGiven<Cmd, Evt> {
    return {
      given(events) {
        return {
          when(command) {
            const run = (): Evt[] => {
              let state = decider.initialState();
              for (const event of asArray(events)) state = decider.evolve(state, event);
              return decider.decide(deepFreeze(command), deepFreeze(state));
            };
            return {
              then(expected) {
                expect(run()).toEqual(asArray(expected));
              },
              thenNothing() {
                expect(run()).toEqual([]);
              },
              thenThrows<E extends Error>(errorClass: ErrorClass<E>, matcher?: ErrorMatcher<E>) {
                let emitted: Evt[] | undefined;
                let thrown: unknown;
                try {
                  emitted = run();
                } catch (error) {
                  thrown = error;
                }
                if (emitted !== undefined) {
                  throw new Error(`expected decide() to throw ${errorClass.name}, but it emitted ${JSON.stringify(emitted)}`);
                }
                expect(thrown).toBeInstanceOf(errorClass);
                const error = thrown as E;
                if (typeof matcher === 'string') expect(error.message).toContain(matcher);
                else if (matcher instanceof RegExp) expect(error.message).toMatch(matcher);
                else if (matcher !== undefined && matcher(error) === false) {
                  throw new Error(`${errorClass.name} thrown but did not match the predicate: ${error.message}`);
                }
              },
            };
          },
        };
      },
    };
  },
};
