import { randomUUID } from 'node:crypto';
import { schemaVersionOf } from '@chronicle/domain';
import type { Projected, ScenarioEvent } from './harness';

/** Appends more events to a projected scenario and waits until the running projector has applied them. */
export async function appendAndProject(projected: Projected, events: ScenarioEvent[]): Promise<void> {
  for (const event of events) {
    await projected.eventStore.append(event.streamId, [
      {
        eventId: randomUUID(),
        type: event.type,
        data: event.data,
        schemaVersion: event.schemaVersion ?? schemaVersionOf(event.type),
        metadata: { occurredAt: event.occurredAt, actor: event.actor ?? 'tester', correlationId: randomUUID(), causationId: randomUUID() },
      },
    ]);
  }
  await projected.readModels.waitFor(await projected.eventStore.headPosition(), 10_000);
}
