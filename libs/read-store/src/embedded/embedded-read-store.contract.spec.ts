import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStoreContract } from '../contract/read-store.contract';
import { EmbeddedReadStore } from './embedded-read-store';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-rs-'));
const file = join(dir, 'reads.db');

readStoreContract(
  'embedded (SQLite)',
  async () => {
    const store = new EmbeddedReadStore(file);
    return {
      store,
      reopen: async () => new EmbeddedReadStore(file),
      crash: {
        // One SQLite transaction per commit: a process dying inside it leaves nothing (the WAL's
        // uncommitted frames are ignored on reopen). Simulated by a change that fails at the end.
        async commitUntil(doomed, changes) {
          await expect(doomed.commit([...changes, { collection: 'invalid name!', id: 'x', doc: { _id: 'x' } }])).rejects.toThrow();
        },
        leftovers: async () => 0,
      },
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { crashPoints: [{ point: 'the last change of the transaction', outcome: 'none' }] },
);
