import type Database from 'better-sqlite3';
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

export type Synchronous = 'FULL' | 'NORMAL';

/** The pragmas every connection to a read-model file uses, the writer thread's included. */
export function configure(db: Database.Database, synchronous: Synchronous): void {
  db.pragma('journal_mode = WAL');
  // A read model can always be rebuilt from the events, and its batches commit atomically, so
  // NORMAL (durable across process crashes, not power loss) is the default trade-off.
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  // Read models hold personal data: deleted and overwritten content is zeroed (erasure, drops).
  db.pragma('secure_delete = ON');
  // 64 MiB of page cache instead of SQLite's 2 MiB: a replay's lookups and inserts touch the
  // upper levels of every collection's b-tree on each page (measured: see bench/README.md).
  db.pragma('cache_size = -65536');
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
  private readonly transaction: (batch: EncodedBatch) => void;
  /** Tables created by the transaction under way: unknown again if it rolls back. */
  private created: string[] = [];

  constructor(private readonly db: Database.Database) {
    for (const name of this.tableNames()) this.known.add(name);
    this.transaction = db.transaction(({ rows, kinds }: EncodedBatch) => {
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
    return { rows, kinds };
  }

  apply(batch: EncodedBatch): void {
    this.created = [];
    try {
      this.transaction(batch);
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
    const rows = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'").all() as { name: string }[];
    return rows.map((r) => r.name.slice(2));
  }
}
