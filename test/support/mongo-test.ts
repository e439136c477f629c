import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';

/** The Mongo-wire server of the integration tier (FerretDB from test/support/servers) or any MongoDB in MONGO_URL. */
export const MONGO_URL = process.env.MONGO_URL || 'mongodb://127.0.0.1:27018/';

const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let databases = 0;

/** A database name no other run or test uses. */
export const freshDatabase = (prefix = 'chronicle_test') => `${prefix}_${runId}_${++databases}`;

/** MONGO_URL with its database replaced (its query options kept). */
export function urlFor(database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?#]*)(?:\/[^?#]*)?(\?[^#]*)?$/.exec(MONGO_URL);
  if (!match) throw new Error(`MONGO_URL="${MONGO_URL}" is not a mongodb:// URL`);
  return `${match[1]}/${database}${match[2] ?? ''}`;
}

export async function dropDatabase(database: string): Promise<void> {
  const client = new MongoClient(urlFor(database));
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close().catch(() => undefined);
  }
}
