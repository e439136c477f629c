import { join } from 'node:path';
import { EmbeddedReadStore, MongoReadStore, ReadStore } from '@chronicle/read-store';
import type { ChronicleConfig } from './config';

/** Picks the read-store adapter named by READ_STORE. */
export async function createReadStore(config: ChronicleConfig): Promise<ReadStore> {
  switch (config.readStore) {
    case 'embedded':
      return new EmbeddedReadStore(join(config.dataDir, 'read-models.db'));
    case 'mongodb':
      return MongoReadStore.connect(config.mongoUrl!);
  }
}
