import type Database from 'better-sqlite3';
import { openSqlite } from '@chronicle/sqlite';
import { newDataKey } from './cipher';
import { KeyLookup, KeyStore, PersonalDataErasedError } from './key-store';

/**
 * Embedded key store: a SQLite file of its own (`keys.db`), so erasure can scrub it without
 * touching anything else. `secure_delete` zeroes a destroyed key's bytes in the page, and the
 * TRUNCATE checkpoint after each erasure drops the older page copies the WAL still holds.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(filename: string) {
    this.db = openSqlite(filename, { synchronous: 'FULL', secureDelete: true });
    this.db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
      subject TEXT PRIMARY KEY, key BLOB, created_at TEXT NOT NULL, erased_at TEXT
    )`);
    this.stmt = {
      find: this.db.prepare<[string], { key: Buffer | null }>('SELECT key FROM data_keys WHERE subject = ?'),
      // Two processes may make a subject's first key at once: the first insert wins, both read it back.
      insert: this.db.prepare('INSERT OR IGNORE INTO data_keys (subject, key, created_at) VALUES (?, ?, ?)'),
      destroy: this.db.prepare(
        `INSERT INTO data_keys (subject, key, created_at, erased_at) VALUES (@subject, NULL, @at, @at)
         ON CONFLICT(subject) DO UPDATE SET key = NULL, erased_at = COALESCE(erased_at, @at)`,
      ),
    };
  }

  async obtain(subject: string): Promise<Buffer> {
    let row = this.stmt.find.get(subject);
    if (!row) {
      this.stmt.insert.run(subject, newDataKey(), new Date().toISOString());
      row = this.stmt.find.get(subject)!;
    }
    if (row.key === null) throw new PersonalDataErasedError(subject);
    return row.key;
  }

  async obtainMany(subjects: string[]): Promise<Map<string, Buffer | 'erased'>> {
    const found = new Map<string, Buffer | 'erased'>();
    const missing: string[] = [];
    for (const subject of subjects) {
      const row = this.stmt.find.get(subject);
      if (row) found.set(subject, row.key ?? 'erased');
      else missing.push(subject);
    }
    // One transaction (one durable write) for every new key; a key another process made meanwhile wins, and is read back.
    this.db.transaction(() => {
      const at = new Date().toISOString();
      for (const subject of missing) {
        if (found.has(subject)) continue;
        const key = newDataKey();
        found.set(subject, this.stmt.insert.run(subject, key, at).changes === 1 ? key : (this.stmt.find.get(subject)!.key ?? 'erased'));
      }
    })();
    return found;
  }

  async findMany(subjects: string[]): Promise<Map<string, KeyLookup>> {
    const found = new Map<string, KeyLookup>();
    for (const subject of subjects) {
      const row = this.stmt.find.get(subject);
      found.set(subject, row === undefined ? undefined : (row.key ?? 'erased'));
    }
    return found;
  }

  async destroy(subject: string): Promise<void> {
    this.stmt.destroy.run({ subject, at: new Date().toISOString() });
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
