import { MongoClient } from 'mongodb';
import { dropDatabase, freshDatabase, urlFor } from '../../../../test/support/mongo-test';
import { describeStateStoreContract } from '../contract/state-store.contract';
import { MongoStateStore } from './mongo-state-store';

const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

async function openStore(database: string, options?: ConstructorParameters<typeof MongoStateStore>[1]) {
  const client = await new MongoClient(urlFor(database)).connect();
  const store = new MongoStateStore(client.db(database), options);
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
  const database = freshDatabase('chronicle_state');
  databases.push(database);
  return database;
}

describeStateStoreContract('MongoDB (FerretDB)', () => openStore(newDatabase()));

describeStateStoreContract('MongoDB (FerretDB), write concern w: 1', () => openStore(newDatabase(), { writeConcern: { w: 1 } }));

describe('MongoDB state store', () => {
  it('never grants a token twice among processes (clients) racing on one role', async () => {
    const database = newDatabase();
    const processes = await Promise.all(Array.from({ length: 4 }, () => openStore(database)));
    try {
      const granted = await Promise.all(
        processes.map(async ({ store }, n) => {
          const me = { id: `w${n}`, host: 'h', pid: n, startedAt: new Date().toISOString() };
          const tokens: number[] = [];
          for (let i = 0; i < 40; i++) {
            const current = (await store.leases()).find((l) => l.role === 'race')?.token ?? 0;
            const lease = await store.acquire('race', me, current);
            if (lease) tokens.push(lease.token);
          }
          return tokens;
        }),
      );
      const last = (await processes[0].store.leases()).find((l) => l.role === 'race')!;
      // Never one token twice; a token inserted and then withdrawn (a higher one landed first) leaves a gap.
      const all = granted.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all).toContain(last.token);
      expect(Math.max(...all)).toBe(last.token);
      expect(granted.filter((tokens) => tokens.length > 0).length).toBeGreaterThan(1);
      // Older grants are removed as newer ones land: at most the current one and a straggler remain.
      expect(await processes[0].client.db(database).collection('_leases').countDocuments({ role: 'race' })).toBeLessThanOrEqual(2);
    } finally {
      await Promise.all(processes.map((p) => p.close()));
    }
  });

  it('creates its indexes on first use, once per store, and several stores may do so', async () => {
    const database = newDatabase();
    const [one, two] = await Promise.all([openStore(database), openStore(database)]);
    try {
      await Promise.all([one.store.leases(), two.store.checkpoints(), one.store.checkpoints()]);
      const db = one.client.db(database);
      expect((await db.collection('_leases').indexes()).map((i) => i.key)).toContainEqual({ role: 1, token: -1 });
      expect((await db.collection('_checkpoints').indexes()).map((i) => i.key)).toContainEqual({ name: 1, token: -1 });
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
