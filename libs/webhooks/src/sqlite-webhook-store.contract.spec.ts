import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWebhookStoreContract } from './contract/webhook-store.contract';
import { SqliteWebhookStore } from './sqlite-webhook-store';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-webhooks-'));
  dirs.push(dir);
  return dir;
};

describeWebhookStoreContract('SQLite', async () => {
  const file = join(tempDir(), 'webhooks.db');
  const stores = [new SqliteWebhookStore(file)];
  return {
    store: stores[0],
    // A second connection to the file, as another process of the host would open it.
    async another() {
      const other = new SqliteWebhookStore(file);
      stores.push(other);
      return other;
    },
    close: async () => {
      for (const s of stores) await s.close();
    },
  };
});
