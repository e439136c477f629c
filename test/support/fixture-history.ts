import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent } from '@chronicle/event-store';

/**
 * Histories written by an earlier version of Chronicle (test/fixtures/histories/*.ndjson): one
 * event per line, as that version stored it (schemaVersion included, personal fields in clear,
 * as the app hands them to its sealing store). Appended as they are to a fresh store, they are
 * what a deployment upgraded from that version reads (docs/schema-evolution.md).
 */
export interface FixtureEvent {
  streamId: string;
  eventId: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
  data: Record<string, unknown>;
}

export function readFixtureHistory(name: string): FixtureEvent[] {
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'histories', `${name}.ndjson`), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as FixtureEvent);
}

/** The event to append, exactly as stored (its old schemaVersion kept). */
export function asStored(event: FixtureEvent): NewEvent {
  const { eventId, type, data, schemaVersion, occurredAt, actor, correlationId, causationId } = event;
  return { eventId, type, data, schemaVersion, metadata: { occurredAt, actor, correlationId, causationId } };
}

/** Appends a fixture history to a store, one append per event, in order. */
export async function appendFixtureHistory(
  store: { append(streamId: string, events: NewEvent[]): Promise<{ position: number }> },
  history: FixtureEvent[],
): Promise<number> {
  let position = 0;
  for (const event of history) position = (await store.append(event.streamId, [asStored(event)])).position;
  return position;
}
