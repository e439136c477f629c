import type Database from 'better-sqlite3';
import { openSqlite } from '@chronicle/sqlite';
import type { FailureRequest } from '../failure';
import { Fence, FencedError } from '../fence';
import {
  CheckpointDetails,
  CheckpointRecord,
  IdempotencyRecord,
  LeaseRecord,
  StateStore,
  WorkerInfo,
  workerInfoOf,
  WorkerRecord,
} from '../state-store';

type CheckpointRow = { name: string; position: number; token: number; updated_at: string | null; details: string | null };
type LeaseRow = { role: string; token: number; beat: number; holder: string; since: string; renewed_at: string; released: number };
type WorkerRow = { id: string; info: string; groups: string; roles: string; beat_at: string };

const leaseOf = (row: LeaseRow): LeaseRecord => ({
  role: row.role,
  token: row.token,
  beat: row.beat,
  holder: JSON.parse(row.holder),
  since: row.since,
  renewedAt: row.renewed_at,
  released: row.released === 1,
});

/** The stored details, without empty fields (a record without a failure has no `failure` key). */
function detailsOf(json: string | null): CheckpointDetails {
  if (!json) return {};
  const { failure, skipped } = JSON.parse(json) as CheckpointDetails;
  return { ...(failure && { failure }), ...(skipped?.length && { skipped }) };
}

/**
 * Embedded state store: a SQLite file (`DATA_DIR/state.db`) that the processes of one host share.
 * Every compare-and-set (claim, acquire) runs in a BEGIN IMMEDIATE transaction, which takes the
 * file's write lock before reading, so it is atomic across processes, not only within this one.
 * Opens files of the earlier single-process store (checkpoints and idempotency only) and adds
 * what they lack.
 */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly claimTx;
  private readonly acquireTx;

  constructor(filename: string) {
    // openSqlite sets busy_timeout first: the switch to WAL and the migration below wait for another process opening the file at the same moment.
    this.db = openSqlite(filename, { synchronous: 'FULL' });
    this.db.transaction(() => this.migrate()).immediate();

    this.stmt = {
      checkpoint: this.db.prepare<[string], CheckpointRow>(
        'SELECT name, position, token, updated_at, details FROM checkpoints WHERE name = ?',
      ),
      checkpoints: this.db.prepare<[], CheckpointRow>('SELECT name, position, token, updated_at, details FROM checkpoints ORDER BY name'),
      insertCheckpoint: this.db.prepare('INSERT INTO checkpoints (name, position, token, updated_at) VALUES (?, 0, ?, ?)'),
      fenceCheckpoint: this.db.prepare('UPDATE checkpoints SET token = ? WHERE name = ?'),
      // The token in the WHERE clause is the fence: a save after a higher claim changes no row.
      saveCheckpoint: this.db.prepare('UPDATE checkpoints SET position = ?, updated_at = ? WHERE name = ? AND token = ?'),
      saveCheckpointDetails: this.db.prepare(
        'UPDATE checkpoints SET position = ?, updated_at = ?, details = ? WHERE name = ? AND token = ?',
      ),
      leaveRequest: this.db.prepare(
        'INSERT INTO requests (role, action, id, request) VALUES (?, ?, ?, ?) ON CONFLICT(role, action) DO UPDATE SET id = excluded.id, request = excluded.request',
      ),
      requests: this.db.prepare<[string], { request: string }>('SELECT request FROM requests WHERE role = ? ORDER BY action'),
      removeRequest: this.db.prepare('DELETE FROM requests WHERE role = ? AND action = ? AND id = ?'),
      find: this.db.prepare<[string, string], { request_hash: string; status_code: number; body: string; created_at: string }>(
        'SELECT request_hash, status_code, body, created_at FROM idempotency WHERE actor = ? AND key = ?',
      ),
      // The first result wins: a concurrent retry that finished second does not overwrite it.
      save: this.db.prepare(
        'INSERT OR IGNORE INTO idempotency (actor, key, request_hash, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      lease: this.db.prepare<[string], LeaseRow>(
        'SELECT role, token, beat, holder, since, renewed_at, released FROM leases WHERE role = ?',
      ),
      leases: this.db.prepare<[], LeaseRow>('SELECT role, token, beat, holder, since, renewed_at, released FROM leases ORDER BY role'),
      grant: this.db.prepare(
        `INSERT INTO leases (role, token, beat, holder, since, renewed_at, released) VALUES (@role, @token, 0, @holder, @at, @at, 0)
         ON CONFLICT(role) DO UPDATE SET token = excluded.token, beat = 0, holder = excluded.holder, since = excluded.since,
           renewed_at = excluded.renewed_at, released = 0`,
      ),
      renew: this.db.prepare('UPDATE leases SET beat = beat + 1, renewed_at = ? WHERE role = ? AND token = ? AND released = 0'),
      release: this.db.prepare('UPDATE leases SET released = 1 WHERE role = ? AND token = ?'),
      heartbeat: this.db.prepare(
        `INSERT INTO workers (id, info, groups, roles, beat_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET info = excluded.info, groups = excluded.groups, roles = excluded.roles, beat_at = excluded.beat_at`,
      ),
      workers: this.db.prepare<[], WorkerRow>('SELECT id, info, groups, roles, beat_at FROM workers ORDER BY id'),
      removeWorker: this.db.prepare('DELETE FROM workers WHERE id = ?'),
    };

    this.claimTx = this.db.transaction((name: string, token: number, at: string): number => {
      const row = this.stmt.checkpoint.get(name);
      if (!row) {
        this.stmt.insertCheckpoint.run(name, token, at);
        return 0;
      }
      if (row.token > token) throw new FencedError([name], `checkpoint ${name} was claimed with token ${row.token}, above ${token}`);
      if (row.token < token) this.stmt.fenceCheckpoint.run(token, name);
      return row.position;
    });

    this.acquireTx = this.db.transaction((role: string, holder: WorkerInfo, current: number): LeaseRecord | undefined => {
      if ((this.stmt.lease.get(role)?.token ?? 0) !== current) return undefined;
      const at = new Date().toISOString();
      const lease: LeaseRecord = {
        role,
        token: current + 1,
        beat: 0,
        holder: workerInfoOf(holder),
        since: at,
        renewedAt: at,
        released: false,
      };
      this.stmt.grant.run({ role, token: lease.token, holder: JSON.stringify(lease.holder), at });
      return lease;
    });
  }

  /** Creates the tables, and adds the columns files of the earlier store lack (in one transaction: several processes may open the file at once). */
  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (
        name TEXT PRIMARY KEY, position INTEGER NOT NULL, token INTEGER NOT NULL DEFAULT 0, updated_at TEXT
      );
      CREATE TABLE IF NOT EXISTS idempotency (
        actor TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (actor, key)
      );
      CREATE TABLE IF NOT EXISTS leases (
        role TEXT PRIMARY KEY, token INTEGER NOT NULL, beat INTEGER NOT NULL, holder TEXT NOT NULL,
        since TEXT NOT NULL, renewed_at TEXT NOT NULL, released INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS workers (
        id TEXT PRIMARY KEY, info TEXT NOT NULL, groups TEXT NOT NULL, roles TEXT NOT NULL, beat_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS requests (
        role TEXT NOT NULL, action TEXT NOT NULL, id TEXT NOT NULL, request TEXT NOT NULL, PRIMARY KEY (role, action)
      );`);
    const columns = new Set(
      this.db
        .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('checkpoints')")
        .all()
        .map((c) => c.name),
    );
    // Checkpoints of the earlier store get token 0: solo code (soloFence) can go on saving them until a lease claims them.
    if (!columns.has('token')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN token INTEGER NOT NULL DEFAULT 0');
    if (!columns.has('updated_at')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN updated_at TEXT');
    // The failure and skipped events of a consumer, as JSON (CheckpointDetails).
    if (!columns.has('details')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN details TEXT');
  }

  async claim(name: string, fence: Fence): Promise<number> {
    return this.claimTx.immediate(name, fence.token, new Date().toISOString());
  }

  async removeCheckpoint(name: string): Promise<void> {
    this.db.prepare('DELETE FROM checkpoints WHERE name = ?').run(name);
  }

  async save(name: string, position: number, fence: Fence, details?: CheckpointDetails): Promise<void> {
    const at = new Date().toISOString();
    const { changes } = details
      ? this.stmt.saveCheckpointDetails.run(position, at, JSON.stringify(details), name, fence.token)
      : this.stmt.saveCheckpoint.run(position, at, name, fence.token);
    if (changes === 0) throw new FencedError([name], `checkpoint ${name} is not claimed with token ${fence.token} (any more)`);
  }

  async checkpoints(): Promise<CheckpointRecord[]> {
    // Checkpoints of the earlier store were never updated since: no updated_at.
    return this.stmt.checkpoints
      .all()
      .map((r) => ({ name: r.name, position: r.position, token: r.token, updatedAt: r.updated_at ?? '', ...detailsOf(r.details) }));
  }

  async leaveRequest(request: FailureRequest): Promise<void> {
    this.stmt.leaveRequest.run(request.role, request.action, request.id, JSON.stringify(request));
  }

  async requests(role: string): Promise<FailureRequest[]> {
    return this.stmt.requests.all(role).map((r) => JSON.parse(r.request) as FailureRequest);
  }

  async removeRequest(request: FailureRequest): Promise<void> {
    this.stmt.removeRequest.run(request.role, request.action, request.id);
  }

  async findResult(actor: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.stmt.find.get(actor, key);
    return row && { requestHash: row.request_hash, statusCode: row.status_code, body: JSON.parse(row.body), createdAt: row.created_at };
  }

  async saveResult(actor: string, key: string, record: IdempotencyRecord): Promise<void> {
    // An undefined body (no content) is stored as null: the column is NOT NULL.
    this.stmt.save.run(actor, key, record.requestHash, record.statusCode, JSON.stringify(record.body ?? null), record.createdAt);
  }

  async leases(): Promise<LeaseRecord[]> {
    return this.stmt.leases.all().map(leaseOf);
  }

  async acquire(role: string, holder: WorkerInfo, current: number): Promise<LeaseRecord | undefined> {
    return this.acquireTx.immediate(role, holder, current);
  }

  async renew(role: string, token: number): Promise<boolean> {
    return this.stmt.renew.run(new Date().toISOString(), role, token).changes === 1;
  }

  async release(role: string, token: number): Promise<void> {
    this.stmt.release.run(role, token);
  }

  async heartbeat(worker: WorkerInfo, groups: string[], roles: string[]): Promise<void> {
    this.stmt.heartbeat.run(
      worker.id,
      JSON.stringify(workerInfoOf(worker)),
      JSON.stringify(groups),
      JSON.stringify(roles),
      new Date().toISOString(),
    );
  }

  async workers(): Promise<WorkerRecord[]> {
    return this.stmt.workers
      .all()
      .map((r) => ({ ...JSON.parse(r.info), id: r.id, groups: JSON.parse(r.groups), roles: JSON.parse(r.roles), beatAt: r.beat_at }));
  }

  async removeWorker(id: string): Promise<void> {
    this.stmt.removeWorker.run(id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
