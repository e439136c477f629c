import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where a consumer of the global feed (process manager, relay) keeps the position of the last event it handled. */
export interface CheckpointStore {
  loadCheckpoint(name: string): Promise<number>;
  saveCheckpoint(name: string, position: number): Promise<void>;
}

export interface IdempotencyRecord {
  /** Hash of method, route and body: the same key on a different request is refused. */
  requestHash: string;
  statusCode: number;
  body: unknown;
  createdAt: string;
}

/** Results of commands sent with an `Idempotency-Key`, per actor. */
export interface IdempotencyStore {
  findResult(actor: string, key: string): Promise<IdempotencyRecord | undefined>;
  saveResult(actor: string, key: string, record: IdempotencyRecord): Promise<void>;
}

/** Embedded implementation of both ports: a small SQLite file beside the event store. */
export class SqliteStateStore implements CheckpointStore, IdempotencyStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(filename: string) {
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS idempotency (
        actor TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (actor, key)
      );`);
    this.stmt = {
      loadCheckpoint: this.db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?'),
      saveCheckpoint: this.db.prepare('INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position'),
      find: this.db.prepare<[string, string], { request_hash: string; status_code: number; body: string; created_at: string }>(
        'SELECT request_hash, status_code, body, created_at FROM idempotency WHERE actor = ? AND key = ?',
      ),
      // The first result wins: a concurrent retry that finished second does not overwrite it.
      save: this.db.prepare('INSERT OR IGNORE INTO idempotency (actor, key, request_hash, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  async loadCheckpoint(name: string): Promise<number> {
    return this.stmt.loadCheckpoint.get(name)?.position ?? 0;
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    this.stmt.saveCheckpoint.run(name, position);
  }

  async findResult(actor: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.stmt.find.get(actor, key);
    return row && { requestHash: row.request_hash, statusCode: row.status_code, body: JSON.parse(row.body), createdAt: row.created_at };
  }

  async saveResult(actor: string, key: string, record: IdempotencyRecord): Promise<void> {
    this.stmt.save.run(actor, key, record.requestHash, record.statusCode, JSON.stringify(record.body), record.createdAt);
  }

  close(): void {
    this.db.close();
  }
}
