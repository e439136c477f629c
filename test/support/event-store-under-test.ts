import { join } from 'node:path';
import { EventStore, EventStoreDbEventStore, SqliteEventStore } from '@chronicle/event-store';
import { startEventStoreDbTestServer } from './eventstoredb-test-server';

/**
 * The event store the suites run on: the embedded SQLite store by default, or EventStoreDB
 * (through the adapter, against the protocol test double) when CHRONICLE_TEST_EVENT_STORE=eventstoredb.
 * `npm run test:eventstoredb` runs the API e2e and projector suites that way.
 */
export const eventStoreUnderTest = (): 'sqlite' | 'eventstoredb' =>
  process.env.CHRONICLE_TEST_EVENT_STORE === 'eventstoredb' ? 'eventstoredb' : 'sqlite';

/** Environment for loadConfig() selecting the store under test; `stop` ends its server, if any. */
export async function eventStoreEnv(): Promise<{ env: NodeJS.ProcessEnv; stop(): Promise<void> }> {
  if (eventStoreUnderTest() === 'sqlite') return { env: {}, stop: async () => undefined };
  const server = await startEventStoreDbTestServer();
  return { env: { EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: server.url }, stop: () => server.stop() };
}

/** A fresh event store of the kind under test (files under `dir` for SQLite). */
export async function openEventStore(
  dir: string,
  options: { pollIntervalMs?: number } = {},
): Promise<{ store: EventStore; close(): Promise<void> }> {
  if (eventStoreUnderTest() === 'sqlite') {
    const store = new SqliteEventStore({ filename: join(dir, 'events.db'), pollIntervalMs: options.pollIntervalMs });
    return { store, close: () => store.close() };
  }
  const server = await startEventStoreDbTestServer();
  const store = new EventStoreDbEventStore({ connectionString: server.url });
  return {
    store,
    async close() {
      await store.close();
      await server.stop();
    },
  };
}
