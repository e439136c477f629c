import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyStoreContract } from './key-store.contract';
import { SqliteKeyStore } from './sqlite-key-store';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-keys-'));
  dirs.push(dir);
  return dir;
};

keyStoreContract('SQLite', async () => new SqliteKeyStore(join(tempDir(), 'keys.db')));

describe('SQLite key store files', () => {
  it('hold no trace of a destroyed key (secure_delete, WAL truncated)', async () => {
    const dir = tempDir();
    const keys = new SqliteKeyStore(join(dir, 'keys.db'));
    const kept = await keys.obtain('customer-kept');
    const doomed = await keys.obtain('customer-doomed');
    const bytesOnDisk = () => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    expect(bytesOnDisk().includes(doomed)).toBe(true); // the search below is meaningful
    await keys.destroy('customer-doomed');
    expect(bytesOnDisk().includes(doomed)).toBe(false);
    expect(bytesOnDisk().includes(kept)).toBe(true);
    await keys.close();
  });
});
