import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeStateStoreContract } from '../contract/state-store.contract';
import { soloFence } from '../fence';
import { SqliteStateStore } from './sqlite-state-store';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-state-'));
  dirs.push(dir);
  return dir;
};

describeStateStoreContract('SQLite', async () => {
  const store = new SqliteStateStore(join(tempDir(), 'state.db'));
  return { store, close: () => store.close() };
});

/** A state.db as the earlier single-process store (libs/infrastructure) wrote it. */
function oldStateDb(filename: string): void {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
    CREATE TABLE idempotency (
      actor TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
      status_code INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
      PRIMARY KEY (actor, key)
    );
    INSERT INTO checkpoints (name, position) VALUES ('relay', 1234), ('pm:follow-up', 77);
    INSERT INTO idempotency VALUES ('user-1', 'k-1', 'hash-1', 201, '{"id":"c-9"}', '2024-01-01T00:00:00.000Z');`);
  db.close();
}

describe('SQLite state store files', () => {
  it('opens a state.db of the earlier store: its checkpoints and results are kept, then claimed and saved with tokens', async () => {
    const file = join(tempDir(), 'state.db');
    oldStateDb(file);
    const store = new SqliteStateStore(file);
    expect(await store.checkpoints()).toEqual([
      { name: 'pm:follow-up', position: 77, token: 0, updatedAt: '' },
      { name: 'relay', position: 1234, token: 0, updatedAt: '' },
    ]);
    expect(await store.findResult('user-1', 'k-1')).toEqual({
      requestHash: 'hash-1',
      statusCode: 201,
      body: { id: 'c-9' },
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    // Code without a lease (token 0) can go on as before until a lease claims the checkpoint.
    await store.save('pm:follow-up', 80, soloFence('pm:follow-up'));
    const lease = { role: 'relay', token: 1, valid: () => true };
    expect(await store.claim('relay', lease)).toBe(1234);
    await store.save('relay', 1300, lease);
    await expect(store.save('relay', 1301, soloFence('relay'))).rejects.toMatchObject({ name: 'FencedError', roles: ['relay'] });
    await store.close();

    // Opening it again migrates nothing twice, and another store (process) on the file sees the same state.
    const again = new SqliteStateStore(file);
    const other = new SqliteStateStore(file);
    expect((await again.checkpoints()).map(({ name, position, token }) => ({ name, position, token }))).toEqual([
      { name: 'pm:follow-up', position: 80, token: 0 },
      { name: 'relay', position: 1300, token: 1 },
    ]);
    expect(await other.acquire('relay', { id: 'w', host: 'h', pid: 1, startedAt: 'now' }, 0)).toMatchObject({ token: 1 });
    expect(await again.acquire('relay', { id: 'v', host: 'h', pid: 2, startedAt: 'now' }, 0)).toBeUndefined();
    await again.close();
    await other.close();
  });

  it('grants every token once among processes racing on one file', async () => {
    const dir = tempDir();
    const file = join(dir, 'state.db');
    const go = join(dir, 'go');
    oldStateDb(file); // each process migrates it as it opens it, some at the same time
    const source = resolve(__dirname, 'sqlite-state-store.ts');
    const child = `
      const { existsSync } = require('node:fs');
      const { SqliteStateStore } = require(${JSON.stringify(source)});
      const store = new SqliteStateStore(${JSON.stringify(file)});
      const me = { id: 'w' + process.pid, host: 'h', pid: process.pid, startedAt: new Date().toISOString() };
      process.stdout.write('ready\\n');
      const wait = setInterval(async () => {
        if (!existsSync(${JSON.stringify(go)})) return;
        clearInterval(wait);
        const tokens = [];
        for (let i = 0; i < 150; i++) {
          const current = (await store.leases()).find((l) => l.role === 'race')?.token ?? 0;
          const lease = await store.acquire('race', me, current);
          if (lease) tokens.push(lease.token);
        }
        await store.close();
        process.stdout.write(JSON.stringify(tokens) + '\\n');
      }, 2);`;
    const children = Array.from({ length: 4 }, () => {
      const proc = spawn(process.execPath, ['-r', '@swc-node/register', '-e', child], {
        cwd: resolve(__dirname, '../../../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      const ready = new Promise<void>((done) => proc.stdout.on('data', (d) => (out += d).startsWith('ready\n') && done()));
      proc.stderr.on('data', (d) => (err += d));
      const tokens = new Promise<number[]>((done, fail) =>
        proc.on('exit', (code) => (code === 0 ? done(JSON.parse(out.split('\n')[1])) : fail(new Error(`child exited ${code}: ${err}`)))),
      );
      return { ready: Promise.race([ready, tokens]), tokens };
    });
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(go, ''); // all started: they race from here
    const granted = await Promise.all(children.map((c) => c.tokens));
    const all = granted.flat().sort((a, b) => a - b);
    const store = new SqliteStateStore(file);
    const last = (await store.leases()).find((l) => l.role === 'race')!.token;
    await store.close();
    // Each token went to exactly one process, none skipped: a read-then-write without the transaction grants some twice.
    expect(all).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(granted.filter((tokens) => tokens.length > 0).length).toBeGreaterThan(1); // they did race
  }, 60_000);
});
