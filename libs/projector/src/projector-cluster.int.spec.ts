import { MongoClient } from 'mongodb';
import { MongoStateStore } from '@chronicle/cluster';
import { SqliteEventStore } from '@chronicle/event-store';
import { MongoReadStore } from '@chronicle/read-store';
import { dropDatabase, freshDatabase, urlFor } from '../../../test/support/mongo-test';
import { sharedRolesScenario } from './testing/shared-roles-scenario';

// The scenario of projector-cluster.unit.spec.ts on MongoDB (FerretDB in the integration tier:
// fenced batches in the redo journal, leases in the state store's insert-only documents).
jest.setTimeout(300_000);

describe('projectors sharing the roles of a cluster (MongoDB)', () => {
  const database = freshDatabase();
  const clean = freshDatabase();
  let events: SqliteEventStore;

  beforeAll(() => {
    events = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await events.close();
    await dropDatabase(database);
    await dropDatabase(clean);
  });

  it('split the roles, survive a holder cut off mid-replay, and end identical to a clean build', async () => {
    await sharedRolesScenario({
      events,
      historyEvents: 3000,
      batchSize: 300,
      // FerretDB queues lease renewals behind the replay's writes. 3 s was too tight once the machine
      // ran three times more processes than cores (renewals lapsed faster than the roles could
      // settle into a split); 5 s leaves them room.
      leaseTimeoutMs: 5000,
      open: async () => {
        const reads = await MongoReadStore.connect(urlFor(database));
        const client = new MongoClient(urlFor(database));
        await client.connect();
        return {
          reads,
          leases: new MongoStateStore(client.db(database)),
          close: async () => {
            await reads.close();
            await client.close();
          },
        };
      },
      openClean: () => MongoReadStore.connect(urlFor(clean)),
    });
  });
});
