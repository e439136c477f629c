import { join } from 'node:path';
import { upcast } from '@chronicle/domain';
import { EventStore, EventStoreDbEventStore, SqliteEventStore } from '@chronicle/event-store';
import { KeyStore, MongoKeyStore, PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import { databaseFromUrl } from '@chronicle/read-store';
import type { ChronicleConfig } from './config';

/** The event store as stored (personal fields sealed), by EVENT_STORE: what the relay publishes. */
export function createSealedEventStore(config: ChronicleConfig): EventStore {
  switch (config.eventStore) {
    case 'sqlite':
      return new SqliteEventStore({ filename: join(config.dataDir, 'events.db'), synchronous: config.sqliteSynchronous, upcast });
    case 'eventstoredb':
      return new EventStoreDbEventStore({ connectionString: config.eventStoreUrl!, upcast });
  }
}

/** Personal-data keys, by KEY_STORE. */
export function createKeyStore(config: ChronicleConfig): KeyStore {
  // The read store's database (the URL's, else "chronicle").
  return config.keyStore === 'mongodb'
    ? new MongoKeyStore(config.mongoUrl!, { database: databaseFromUrl(config.mongoUrl!) || 'chronicle' })
    : new SqliteKeyStore(join(config.dataDir, 'keys.db'));
}

/** The event store as the application uses it: personal fields sealed on append, opened on read. */
export function createEventStore(config: ChronicleConfig): PersonalDataEventStore {
  return new PersonalDataEventStore(createSealedEventStore(config), createKeyStore(config));
}
