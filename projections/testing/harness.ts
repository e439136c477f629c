import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPipeline, Pipeline, schemaVersionOf, upcast } from '@chronicle/domain';
import { RecordedEvent, SqliteEventStore } from '@chronicle/event-store';
import { Projector, ReadModels } from '@chronicle/projector';
import { EmbeddedReadStore, ReadStore } from '@chronicle/read-store';
import type { Projection } from '@chronicle/projector';
import type { ReportContext } from '../common/report';

/** An event as a test scenario writes it: the stream, the type, the payload and the business time. */
export interface ScenarioEvent {
  streamId: string;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  actor?: string;
  /** The version `data` is stored with; default the type's current one. An older one is upcast on read, as in the app. */
  schemaVersion?: number;
  /** Default a random one. */
  eventId?: string;
}

export interface Projected {
  readModels: ReadModels;
  context: ReportContext;
  /** The events as stored (with positions), for reference folds. */
  events: RecordedEvent[];
  eventStore: SqliteEventStore;
  readStore: ReadStore;
  close(): Promise<void>;
}

/**
 * Appends a scenario to a fresh SQLite event store and runs the given projections over it with
 * the real projector and the embedded read store (or another read store, e.g. MongoDB).
 */
export async function project(
  scenario: ScenarioEvent[],
  projections: Projection[],
  options: { pipeline?: Pipeline; readStore?: (dir: string) => Promise<ReadStore> | ReadStore } = {},
): Promise<Projected> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-projections-'));
  const eventStore = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL', upcast });
  const readStore = options.readStore ? await options.readStore(dir) : new EmbeddedReadStore(join(dir, 'reads.db'));
  for (const event of scenario) {
    await eventStore.append(event.streamId, [
      {
        eventId: event.eventId ?? randomUUID(),
        type: event.type,
        data: event.data,
        schemaVersion: event.schemaVersion ?? schemaVersionOf(event.type),
        metadata: { occurredAt: event.occurredAt, actor: event.actor ?? 'tester', correlationId: randomUUID(), causationId: randomUUID() },
      },
    ]);
  }
  const projector = new Projector(eventStore, readStore, projections, { batchSize: 500 });
  await projector.start();
  const readModels = new ReadModels(
    readStore,
    eventStore,
    projections.map((p) => p.name),
    projector,
  );
  await readModels.waitFor(await eventStore.headPosition(), 30_000);
  const events: RecordedEvent[] = [];
  for (let from = 0; ;) {
    const page = await eventStore.readAll({ fromPosition: from, maxCount: 5000 });
    events.push(...page.events);
    from = page.checkpoint;
    if (page.isEnd) break;
  }
  return {
    readModels,
    context: { readModels, pipeline: options.pipeline ?? defaultPipeline },
    events,
    eventStore,
    readStore,
    async close() {
      await projector.stop();
      await eventStore.close();
      await readStore.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
