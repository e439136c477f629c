import { eventStoreContract } from '../contract/event-store.contract';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

// The shared contract against a real EventStoreDB/KurrentDB (docs/eventstoredb.md): it uses fresh
// categories, so a shared, non-empty server is fine.
const url = process.env.EVENTSTORE_URL;

if (url) {
  jest.setTimeout(30_000);
  eventStoreContract(`EventStoreDB at ${url}`, async () => {
    const store = new EventStoreDbEventStore({ connectionString: url });
    return { store, cleanup: () => store.close() };
  });
} else {
  it('runs only with EVENTSTORE_URL set (docker compose up eventstore)', () => expect(process.env.EVENTSTORE_URL).toBeUndefined());
}
