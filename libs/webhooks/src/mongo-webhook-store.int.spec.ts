import { MongoClient } from 'mongodb';
import { dropDatabase, freshDatabase, urlFor } from '../../../test/support/mongo-test';
import { describeWebhookStoreContract } from './contract/webhook-store.contract';
import { MongoWebhookStore } from './mongo-webhook-store';

const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

/** A store with a client of its own, as a process would have. */
async function openStore(database: string) {
  const client = await new MongoClient(urlFor(database)).connect();
  const store = new MongoWebhookStore(client.db(database));
  return {
    store,
    client,
    async close() {
      await store.close();
      await client.close();
    },
  };
}

function newDatabase(): string {
  const database = freshDatabase('chronicle_webhooks');
  databases.push(database);
  return database;
}

describeWebhookStoreContract('MongoDB (FerretDB)', async () => {
  const database = newDatabase();
  const opened = [await openStore(database)];
  return {
    store: opened[0].store,
    async another() {
      const other = await openStore(database);
      opened.push(other);
      return other.store;
    },
    async close() {
      for (const o of opened) await o.close();
    },
  };
});

describe('MongoDB webhook store', () => {
  it('creates its indexes on first use, and several stores may do so', async () => {
    const database = newDatabase();
    const [one, two] = await Promise.all([openStore(database), openStore(database)]);
    try {
      await Promise.all([one.store.list(), two.store.deadLetters('wh-1'), one.store.deadLetters('wh-2')]);
      const db = one.client.db(database);
      expect((await db.collection('webhooks').indexes()).map((i) => i.key)).toContainEqual({ createdAt: 1, _id: 1 });
      expect((await db.collection('webhookDeadLetters').indexes()).map((i) => i.key)).toContainEqual({
        subscriptionId: 1,
        fromPosition: 1,
        id: 1,
      });
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('leaves the client open on close (the factory that made it closes it)', async () => {
    const { store, client, close } = await openStore(newDatabase());
    await store.close();
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await close();
  });
});
