import { schemaVersions } from '@chronicle/domain';
import type { ChronicleEvent, ChronicleEventType } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';

/** The payload of an event type, as the domain declares it (stored events are upcast to it on read). */
export type EventData<T extends ChronicleEventType> = Extract<ChronicleEvent, { type: T }>['data'];

/**
 * A recorded event of one of the types `T`, its data typed by its type. For several types it is a
 * union discriminated by `type`, so a handler shared by them narrows with `event.type === …`.
 */
export type ProjectedEvent<T extends ChronicleEventType = ChronicleEventType> = {
  [K in T]: RecordedEvent<EventData<K>> & { type: K };
}[T];

/** What a projection does with an event of type `T`. */
export type EventHandler<T extends ChronicleEventType> = (event: ProjectedEvent<T>, ctx: ProjectionContext) => void | Promise<void>;

/** A handler per event type the projection reacts to; the keys are its event types. */
export type EventHandlers = { [T in ChronicleEventType]?: EventHandler<T> };

export interface ProjectionDefinition extends Omit<Projection, 'eventTypes' | 'apply'> {
  on: EventHandlers;
}

/**
 * A projection from a handler per event type: `eventTypes` are the handlers' keys, so the list the
 * projector filters the feed by cannot drift from what `apply` handles, and each handler gets its
 * event with the data typed (no casts in the projection). The result is a plain `Projection`.
 *
 * `apply` stays synchronous (it returns the handler's promise, if any): the projector calls it
 * once per event and replay, millions of times, pays for every extra await.
 */
export function defineProjection(definition: ProjectionDefinition): Projection {
  const { on, ...rest } = definition;
  const handlers = new Map<string, EventHandler<ChronicleEventType>>();
  for (const [type, handler] of Object.entries(on)) {
    if (typeof handler !== 'function') continue;
    if (!isEventType(type)) throw new Error(`projection ${definition.name}: ${type} is not an event type`);
    // The handler is picked by the event's type below, so the event it gets is always of its type.
    handlers.set(type, handler as EventHandler<ChronicleEventType>);
  }
  return {
    ...rest,
    eventTypes: [...handlers.keys()],
    apply(event: RecordedEvent, ctx: ProjectionContext) {
      return handlers.get(event.type)?.(event as ProjectedEvent, ctx);
    },
  };
}

export const isEventType = (type: string): type is ChronicleEventType => Object.prototype.hasOwnProperty.call(schemaVersions, type);

/**
 * One handler for every type of a list known only at run time (e.g. the erasure types of
 * personal-data.ts), to spread into `on`. Throws on a name that is not an event type.
 */
export function onEach(
  types: readonly string[],
  handler: (event: ProjectedEvent, ctx: ProjectionContext) => void | Promise<void>,
): EventHandlers {
  const handlers: EventHandlers = {};
  for (const type of types) {
    if (!isEventType(type)) throw new Error(`${type} is not an event type`);
    handlers[type] = handler;
  }
  return handlers;
}
