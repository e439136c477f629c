import { join } from 'node:path';
import { upcast } from '@chronicle/domain';
import { EventStore, EventStoreDbEventStore, SqliteEventStore } from '@chronicle/event-store';
import type { ChronicleConfig } from './config';

/** Picks the event-store adapter named by EVENT_STORE. */
export function createEventStore(config: ChronicleConfig): EventStore {
  switch (config.eventStore) {
    case 'sqlite':
      return new SqliteEventStore({ filename: join(config.dataDir, 'events.db'), synchronous: config.sqliteSynchronous, upcast });
    case 'eventstoredb':
      return new EventStoreDbEventStore({ connectionString: config.eventStoreUrl!, upcast });
  }
}
