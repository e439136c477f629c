import type { Projection } from '@chronicle/projector';
import { ReadModels } from '@chronicle/projector';
import type { EventStore } from '@chronicle/event-store';
import type { ReadStore } from '@chronicle/read-store';

/** Every document of every projection's serving generation, by logical name: what "identical read models" compares. */
export async function dumpReadModels(
  readStore: ReadStore,
  eventStore: EventStore,
  projections: Projection[],
): Promise<Record<string, unknown[]>> {
  const models = new ReadModels(
    readStore,
    eventStore,
    projections.map((p) => p.name),
    undefined,
    0,
  );
  const dump: Record<string, unknown[]> = {};
  for (const projection of projections) {
    for (const collection of projection.collections) {
      const docs = await (await models.collection(projection.name, collection)).find({}, { sort: { _id: 1 } });
      dump[`${projection.name}.${collection}`] = docs;
    }
  }
  return dump;
}
