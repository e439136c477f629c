import type Database from 'better-sqlite3';
import { openSqlite } from '@chronicle/sqlite';

/**
 * A folded aggregate state at one revision of its stream. Only a cache: the command executor
 * checks that the event at `revision` is still `eventId` and reads the tail after it, so a lost,
 * stale or foreign snapshot costs a fold, never a wrong decision.
 */
export interface Snapshot {
  streamId: string;
  /** Which decider code folded it (see CommandExecutor): another version is never used. */
  version: string;
  revision: number;
  /** Id of the event at `revision`: a snapshot of another history with the same stream id is refused. */
  eventId: string;
  state: unknown;
}

export interface SnapshotStore {
  load(streamId: string, version: string): Snapshot | undefined;
  /** Revision of the stored snapshot (-1 when none), without parsing its state. */
  revision(streamId: string, version: string): number;
  /** Keeps the newer of the stored and the given snapshot. */
  save(snapshot: Snapshot): void;
  /** Drops every snapshot of a stream (e.g. when its personal data is erased). */
  forget(streamId: string): void;
  close(): void;
}

export const SNAPSHOT_STORE = Symbol('SnapshotStore');

/**
 * Snapshots in their own SQLite file (`snapshots.db` in DATA_DIR). `synchronous = NORMAL`: a
 * snapshot lost in a power cut is rebuilt by the next fold, so no fsync per write is paid for it.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly saveTx: (snapshot: Snapshot) => void;

  constructor(filename: string) {
    // Snapshots hold personal fields in clear: a forgotten one is zeroed, not left in free pages.
    this.db = openSqlite(filename, { synchronous: 'NORMAL', secureDelete: true });
    this.db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
      stream_id TEXT NOT NULL, version TEXT NOT NULL, revision INTEGER NOT NULL, event_id TEXT NOT NULL, state TEXT NOT NULL,
      PRIMARY KEY (stream_id, version)
    )`);
    this.stmt = {
      load: this.db.prepare<[string, string], { revision: number; event_id: string; state: string }>(
        'SELECT revision, event_id, state FROM snapshots WHERE stream_id = ? AND version = ?',
      ),
      revision: this.db.prepare<[string, string], { revision: number }>(
        'SELECT revision FROM snapshots WHERE stream_id = ? AND version = ?',
      ),
      save: this.db.prepare(
        `INSERT INTO snapshots (stream_id, version, revision, event_id, state) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (stream_id, version) DO UPDATE SET revision = excluded.revision, event_id = excluded.event_id, state = excluded.state
         WHERE excluded.revision > snapshots.revision`,
      ),
      forget: this.db.prepare('DELETE FROM snapshots WHERE stream_id = ?'),
      // Snapshots of other decider versions are dead weight (and stale copies of the state).
      others: this.db.prepare('DELETE FROM snapshots WHERE stream_id = ? AND version <> ?'),
    };
    this.saveTx = this.db.transaction((snapshot: Snapshot) => {
      this.stmt.others.run(snapshot.streamId, snapshot.version);
      this.stmt.save.run(snapshot.streamId, snapshot.version, snapshot.revision, snapshot.eventId, JSON.stringify(snapshot.state));
    });
  }

  load(streamId: string, version: string): Snapshot | undefined {
    const row = this.stmt.load.get(streamId, version);
    if (!row) return undefined;
    try {
      return { streamId, version, revision: row.revision, eventId: row.event_id, state: JSON.parse(row.state) };
    } catch {
      return undefined; // unreadable: folded again
    }
  }

  revision(streamId: string, version: string): number {
    return this.stmt.revision.get(streamId, version)?.revision ?? -1;
  }

  save(snapshot: Snapshot): void {
    this.saveTx(snapshot);
  }

  forget(streamId: string): void {
    this.stmt.forget.run(streamId);
    // And out of the WAL, which still holds the older page versions.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
