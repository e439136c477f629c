import { dropDatabase, freshDatabase, urlFor } from '../../../test/support/mongo-test';
import { keyStoreContract } from './key-store.contract';
import { MongoKeyStore } from './mongo-key-store';

const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

keyStoreContract('MongoDB (FerretDB)', async () => {
  const db = freshDatabase('chronicle_keys');
  databases.push(db);
  return new MongoKeyStore(urlFor(db));
});
