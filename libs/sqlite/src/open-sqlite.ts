import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface OpenSqliteOptions {
  /** FULL: fsync at every commit (survives power loss); NORMAL: durable across process crashes only. */
  synchronous: SqliteSynchronous;
  /** Zero deleted and overwritten content (files that hold personal data). Default: off. */
  secureDelete?: boolean;
  /** `PRAGMA cache_size`: negative values are KiB (SQLite's default is -2000). Default: SQLite's. */
  cacheSize?: number;
}

/**
 * Opens (and creates, with its directory) one SQLite file the way every store in Chronicle uses
 * it: WAL journal, a 5 s busy timeout, `synchronous` as given, and optionally secure_delete and a
 * larger page cache. The busy timeout comes first, so that the switch to WAL (and whatever the
 * caller runs next, e.g. a migration) waits for another process opening the same file at the
 * same moment instead of failing with SQLITE_BUSY.
 */
export function openSqlite(filename: string, options: OpenSqliteOptions): Database.Database {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  const db = new Database(filename);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous}`);
  if (options.secureDelete) db.pragma('secure_delete = ON');
  if (options.cacheSize !== undefined) db.pragma(`cache_size = ${options.cacheSize}`);
  return db;
}
