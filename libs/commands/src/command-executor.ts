import { randomUUID } from 'node:crypto';
import { Command, Decider, DomainEvent, fold, schemaVersionOf } from '@chronicle/domain';
import {
  EventStore,
  ExpectedRevision,
  NewEvent,
  RecordedEvent,
  WrongExpectedRevisionError,
} from '@chronicle/event-store';
import { deterministicUuid } from '@chronicle/shared';
import type { CommandContext } from './command-context';

export interface Execution<State> {
  streamId: string;
  /** State the command was decided on. */
  state: State;
  events: RecordedEventRef[];
  revision: number;
  position: number;
}

export interface RecordedEventRef {
  eventId: string;
  type: string;
  data: unknown;
  occurredAt: string;
}

export const toDomainEvent = <E extends DomainEvent>(event: RecordedEvent): E =>
  ({ type: event.type, data: event.data, occurredAt: event.occurredAt }) as E;

/**
 * load → fold → decide → append with the expected revision (Emmett's handleCommand). Without an
 * explicit expected revision from the client, a conflict is retried on fresh state; with one,
 * the conflict goes back to the client as a 409.
 *
 * Commands on one stream run one after the other in this process: otherwise N concurrent commands
 * would all decide on the same state, one append per group commit would win and the others would
 * burn their retries (50 at once left 44 of them with a 409 they never asked for). Conflicts with
 * other processes are still retried.
 */
export class CommandExecutor {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly maxRetries = 5,
  ) {}

  execute<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    streamId: string,
    command: C,
    context: CommandContext,
  ): Promise<Execution<S>> {
    return this.serialized(streamId, () => this.decideAndAppend(decider, streamId, command, context));
  }

  private async serialized<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(streamId);
    const run = previous ? previous.then(work, work) : work();
    const tail = run.catch(() => undefined);
    this.queues.set(streamId, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(streamId) === tail) this.queues.delete(streamId);
    }
  }

  private async decideAndAppend<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    streamId: string,
    command: C,
    context: CommandContext,
  ): Promise<Execution<S>> {
    for (let attempt = 0; ; attempt++) {
      const recorded = await this.store.readStream(streamId);
      const last = recorded[recorded.length - 1];
      const revision = last ? last.streamRevision : -1;
      this.checkExpected(streamId, revision, context);
      const state = fold(decider, recorded.map((e) => toDomainEvent<E>(e)));
      const events = decider.decide(command, state);
      if (events.length === 0) return { streamId, state, events: [], revision, position: last?.globalPosition ?? 0 };
      try {
        const expected = context.expectedRevision ?? (revision < 0 ? ExpectedRevision.NoStream : revision);
        const appended = await this.append(streamId, events, expected, context);
        return { streamId, state, ...appended };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || context.expectedRevision !== undefined || attempt >= this.maxRetries) throw error;
      }
    }
  }

  /** For commands decided without folding the stream (e.g. logging an interaction). */
  async append(
    streamId: string,
    events: DomainEvent[],
    expectedRevision: ExpectedRevision,
    context: CommandContext,
  ): Promise<{ events: RecordedEventRef[]; revision: number; position: number }> {
    const newEvents = events.map((event, i) => this.toNewEvent(streamId, event, i, context));
    const result = await this.store.append(streamId, newEvents, { expectedRevision });
    return {
      events: newEvents.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data, occurredAt: e.metadata.occurredAt })),
      revision: result.nextExpectedRevision,
      position: result.position,
    };
  }

  checkExpected(streamId: string, revision: number, context: CommandContext): void {
    if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
      throw new WrongExpectedRevisionError(streamId, context.expectedRevision, revision);
    }
  }

  private toNewEvent(streamId: string, event: DomainEvent, index: number, context: CommandContext): NewEvent {
    return {
      eventId: context.idSeed ? deterministicUuid(`${context.idSeed}|${streamId}|${index}`) : randomUUID(),
      type: event.type,
      data: event.data,
      schemaVersion: schemaVersionOf(event.type),
      metadata: {
        ...context.metadata,
        occurredAt: event.occurredAt,
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.causationId,
      },
    };
  }
}
