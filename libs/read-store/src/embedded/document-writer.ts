import type Database from 'better-sqlite3';
import type { OpenSqliteOptions, SqliteSynchronous } from '@chronicle/sqlite';
import { FencedError } from '@chronicle/cluster';
import { assertCollectionName, DocumentChange } from '../read-store';

/**
 * JSON types an indexed field has held, as bits (null and missing are always fine). SQLite orders
 * and compares `json_extract` values by its own rules; they agree with MongoDB's for numbers,
 * strings and null, and for booleans on their own. Once a field has held an array (MongoDB
 * matches array elements) or a document, or booleans beside numbers or strings (MongoDB sorts
 * booleans after strings, SQLite sees 0/1), the affected filters or sorts go through mingo.
 */
export const KIND = { number: 1, string: 2, boolean: 4, array: 8, object: 16 } as const;
export const ORDER_UNSAFE = KIND.array | KIND.object;

export function kindOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) return KIND.array;
  switch (typeof value) {
    case 'number':
      return KIND.number;
    case 'string':
      return KIND.string;
    case 'boolean':
      return KIND.boolean;
    default:
      return KIND.object;
  }
}

export function kindsOfJsonTypes(types: (string | null)[]): number {
  let kinds = 0;
  for (const type of types) {
    if (type === 'integer' || type === 'real') kinds |= KIND.number;
    else if (type === 'text') kinds |= KIND.string;
    else if (type === 'true' || type === 'false') kinds |= KIND.boolean;
    else if (type === 'array') kinds |= KIND.array;
    else if (type === 'object') kinds |= KIND.object;
  }
  return kinds;
}

export const table = (collection: string) => `"c_${collection}"`;

export type Synchronous = SqliteSynchronous;

/**
 * The pragmas every connection to a read-model file uses, the writer thread's included (for
 * `openSqlite`, which also sets WAL and busy_timeout, the latter before the switch to WAL:
 * processes opening one new file at once wait for each other).
 */
export function readModelSqlite(synchronous: Synchronous): OpenSqliteOptions {
  return {
    // A read model can always be rebuilt from the events, and its batches commit atomically, so
    // NORMAL (durable across process crashes, not power loss) is the default trade-off.
    synchronous,
    // Read models hold personal data: deleted and overwritten content is zeroed (erasure, drops).
    secureDelete: true,
    // 64 MiB of page cache instead of SQLite's 2 MiB: a replay's lookups and inserts touch the
    // upper levels of every collection's b-tree on each page (measured: see bench/README.md).
    cacheSize: -65536,
  };
}

/**
 * A batch as a connection applies it: documents already JSON text, and the JSON types written
 * per indexed field. Flat arrays of strings copy cheaply to the writer thread (structured clone
 * of the documents themselves costs as much as JSON.stringify, and the thread would then
 * stringify them again).
 */
export interface EncodedBatch {
  /** collection, id, JSON text (or null: delete), repeated. */
  rows: (string | null)[];
  /** collection, field, kinds bits, repeated: bits to add to `_indexes.kinds`. */
  kinds: (string | number)[];
  /** role, token, repeated: the fences the batch is written under (checked in its transaction). */
  fences: (string | number)[];
}

/**
 * The write path of one connection: applies an encoded batch in one transaction, creating tables
 * on first use and widening `_indexes.kinds`. Used on the store's own connection and, for large
 * batches, by the writer thread's.
 */
export class DocumentWriter {
  readonly known = new Set<string>();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writes = new Map<string, { insert: Database.Statement; remove: Database.Statement }>();
  private readonly transaction: Database.Transaction<(batch: EncodedBatch) => void>;
  /** Tables created by the transaction under way: unknown again if it rolls back. */
  private created: string[] = [];

  constructor(private readonly db: Database.Database) {
    for (const name of this.tableNames()) this.known.add(name);
    db.exec('CREATE TABLE IF NOT EXISTS _fences (role TEXT PRIMARY KEY, token INTEGER NOT NULL)');
    this.transaction = db.transaction(({ rows, kinds, fences }: EncodedBatch) => {
      // Fences first: a stale one refuses the whole batch in the same transaction as its writes.
      this.raiseFences(fences);
      for (let i = 0; i < rows.length; i += 3) {
        const collection = rows[i]!;
        const json = rows[i + 2];
        const write = this.writesOf(collection);
        if (json === null) write.remove.run(rows[i + 1]);
        else write.insert.run(rows[i + 1], json);
      }
      for (let i = 0; i < kinds.length; i += 3) {
        this.prepare('UPDATE _indexes SET kinds = kinds | ? WHERE collection = ? AND field = ?').run(kinds[i + 2], kinds[i], kinds[i + 1]);
      }
    });
  }

  /** Encodes changes for `apply` (here or on the writer thread), reading index fields from this connection. */
  encode(changes: DocumentChange[]): EncodedBatch {
    const rows: (string | null)[] = new Array(changes.length * 3);
    const fields = new Map<string, { field: string; kinds: number; seen: number }[]>();
    let j = 0;
    for (const change of changes) {
      rows[j++] = change.collection;
      rows[j++] = change.id;
      if (change.doc === null) {
        rows[j++] = null;
        continue;
      }
      let indexed = fields.get(change.collection);
      if (!indexed) fields.set(change.collection, (indexed = this.indexInfo(change.collection).map((i) => ({ ...i, seen: i.kinds }))));
      for (const f of indexed) f.seen |= kindOf(change.doc[f.field]);
      rows[j++] = JSON.stringify(change.doc);
    }
    const kinds: (string | number)[] = [];
    for (const [collection, indexed] of fields) {
      for (const f of indexed) if (f.seen !== f.kinds) kinds.push(collection, f.field, f.seen);
    }
    const fences: (string | number)[] = [];
    const roles = new Set<string>();
    for (const { fence } of changes) {
      if (!fence || roles.has(fence.role)) continue;
      roles.add(fence.role);
      fences.push(fence.role, fence.token);
    }
    if (fences.length > 0 && changes.some((c) => !c.fence)) throw new Error('a commit has either a fence on every change or on none');
    return { rows, kinds, fences };
  }

  /**
   * Checks and raises fences (role, token pairs) inside the caller's transaction: throws
   * FencedError naming every role whose stored token is higher.
   */
  raiseFences(fences: (string | number)[]): void {
    if (fences.length === 0) return;
    const stale: string[] = [];
    for (let i = 0; i < fences.length; i += 2) {
      const row = this.prepare('SELECT token FROM _fences WHERE role = ?').get(fences[i]) as { token: number } | undefined;
      if (row && row.token > (fences[i + 1] as number)) stale.push(fences[i] as string);
    }
    if (stale.length > 0) throw new FencedError(stale);
    for (let i = 0; i < fences.length; i += 2) {
      this.prepare(
        'INSERT INTO _fences (role, token) VALUES (?, ?) ON CONFLICT (role) DO UPDATE SET token = excluded.token WHERE token < excluded.token',
      ).run(fences[i], fences[i + 1]);
    }
  }

  /** Claims a fence on its own (a new holder of the role). */
  claimFence(role: string, token: number): void {
    this.db.transaction(() => this.raiseFences([role, token])).immediate();
  }

  apply(batch: EncodedBatch): void {
    this.created = [];
    try {
      // IMMEDIATE: take the write lock first. A deferred transaction that reads first (the fence
      // check) gets SQLITE_BUSY at once when another process commits meanwhile, without waiting.
      this.transaction.immediate(batch);
    } catch (error) {
      for (const name of this.created) this.known.delete(name);
      throw error;
    } finally {
      this.created = [];
    }
  }

  prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  ensureTable(collection: string): void {
    if (this.known.has(collection)) return;
    assertCollectionName(collection);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table(collection)} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
    this.known.add(collection);
    this.created.push(collection);
  }

  /** After a collection was dropped (on this or another connection of the process). */
  forget(collection: string): void {
    this.known.delete(collection);
    this.statements.clear();
    this.writes.clear();
  }

  private writesOf(collection: string): { insert: Database.Statement; remove: Database.Statement } {
    this.ensureTable(collection);
    let write = this.writes.get(collection);
    if (!write) {
      write = {
        insert: this.db.prepare(`INSERT OR REPLACE INTO ${table(collection)} (id, doc) VALUES (?, ?)`),
        remove: this.db.prepare(`DELETE FROM ${table(collection)} WHERE id = ?`),
      };
      this.writes.set(collection, write);
    }
    return write;
  }

  /** Indexed fields of a collection and the JSON types they have held. */
  indexInfo(collection: string): { field: string; kinds: number }[] {
    return this.prepare('SELECT field, kinds FROM _indexes WHERE collection = ?').all(collection) as { field: string; kinds: number }[];
  }

  tableNames(): string[] {
    const rows = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'").all() as {
      name: string;
    }[];
    return rows.map((r) => r.name.slice(2));
  }
}
