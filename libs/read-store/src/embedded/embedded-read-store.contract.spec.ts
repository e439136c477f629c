import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStoreContract } from '../contract/read-store.contract';
import { EmbeddedReadStore, EmbeddedReadStoreOptions } from './embedded-read-store';

// The same contract with batches committed on the calling thread, and all of them committed by
// the writer thread (which is what large replay batches use).
const variants: Array<[string, EmbeddedReadStoreOptions]> = [
  ['embedded (SQLite)', { threadedCommitAt: Infinity }],
  ['embedded (SQLite), writer thread', { threadedCommitAt: 0 }],
];

for (const [name, options] of variants) {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-rs-'));
  const file = join(dir, 'reads.db');
  readStoreContract(
    name,
    async () => {
      const store = new EmbeddedReadStore(file, options);
      const others: EmbeddedReadStore[] = [];
      return {
        store,
        reopen: async () => {
          const other = new EmbeddedReadStore(file, options);
          others.push(other);
          return other;
        },
        crash: {
          // One SQLite transaction per commit: a process dying inside it leaves nothing (the WAL's
          // uncommitted frames are ignored on reopen). Simulated by a change that fails at the end.
          async commitUntil(doomed, changes) {
            await expect(doomed.commit([...changes, { collection: 'invalid name!', id: 'x', doc: { _id: 'x' } }])).rejects.toThrow();
          },
          leftovers: async () => 0,
        },
        async cleanup() {
          await Promise.all([store, ...others].map((s) => s.close()));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    { crashPoints: [{ point: 'the last change of the transaction', outcome: 'none' }] },
  );
}
