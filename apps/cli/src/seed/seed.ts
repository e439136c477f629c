import { randomUUID } from 'node:crypto';
import { schemaVersionOf } from '@chronicle/domain';
import { EventStore, NewEvent, SqliteEventStore } from '@chronicle/event-store';
import type { SeedEvent } from './generator';

/**
 * Appends a generated history through the event-store port with many appends in flight, so that
 * group commit batches them. The embedded store commits queued appends in FIFO order, so global
 * positions follow business time exactly; other stores get each stream's events in sequence.
 */
export async function appendHistory(store: EventStore, events: SeedEvent[], onProgress?: (done: number) => void): Promise<void> {
  const correlationId = randomUUID();
  const toNew = (event: SeedEvent): NewEvent => ({
    eventId: randomUUID(),
    type: event.type,
    data: event.data,
    schemaVersion: schemaVersionOf(event.type),
    metadata: { occurredAt: event.occurredAt, actor: event.actor, correlationId, causationId: correlationId, seeded: true },
  });
  const fifo = store instanceof SqliteEventStore;
  const window = 5000;
  for (let i = 0; i < events.length; i += window) {
    const slice = events.slice(i, i + window);
    if (fifo) {
      await Promise.all(slice.map((event) => store.append(event.streamId, [toNew(event)])));
    } else {
      const byStream = new Map<string, SeedEvent[]>();
      for (const event of slice) byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event]);
      await Promise.all(
        [...byStream.entries()].map(async ([streamId, list]) => {
          for (const event of list) await store.append(streamId, [toNew(event)]);
        }),
      );
    }
    onProgress?.(Math.min(events.length, i + window));
  }
}
