import Database from 'better-sqlite3';
import { find as mingoFind, update as applyUpdate } from 'mingo';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  assertCollectionName,
  Document,
  DocumentChange,
  Filter,
  FindOptions,
  ReadCollection,
  ReadStore,
  Update,
} from '../read-store';

type Sql = { where: string; params: unknown[] };
const SCALAR = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Embedded read store: one SQLite table per collection holding JSON documents. Filters on
 * indexed top-level fields are translated to SQL on `json_extract` expression indexes; the
 * rest is evaluated by mingo with MongoDB semantics, so results match the MongoDB adapter.
 */
export class EmbeddedReadStore implements ReadStore {
  readonly kind = 'embedded' as const;
  private readonly db: Database.Database;
  private readonly known = new Set<string>();
  private readonly indexed = new Map<string, Set<string>>();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly applyChanges: (changes: DocumentChange[]) => void;

  constructor(filename: string, options: { synchronous?: 'FULL' | 'NORMAL' } = {}) {
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    // A read model can always be rebuilt from the events, and its batches commit atomically, so
    // NORMAL (durable across process crashes, not power loss) is the default trade-off.
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec('CREATE TABLE IF NOT EXISTS _indexes (collection TEXT NOT NULL, field TEXT NOT NULL, PRIMARY KEY (collection, field))');
    for (const row of this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'").all() as { name: string }[]) {
      this.known.add(row.name.slice(2));
    }
    for (const row of this.db.prepare('SELECT collection, field FROM _indexes').all() as { collection: string; field: string }[]) {
      this.indexSet(row.collection).add(row.field);
    }
    this.applyChanges = this.db.transaction((changes: DocumentChange[]) => {
      for (const change of changes) {
        this.ensureTable(change.collection);
        if (change.doc === null) this.prepare(`DELETE FROM ${table(change.collection)} WHERE id = ?`).run(change.id);
        else this.prepare(`INSERT OR REPLACE INTO ${table(change.collection)} (id, doc) VALUES (?, ?)`).run(change.id, JSON.stringify(change.doc));
      }
    });
  }

  collection<T extends Document = Document>(name: string): ReadCollection<T> {
    assertCollectionName(name);
    return new EmbeddedCollection<T>(this, name);
  }

  async commit(changes: DocumentChange[]): Promise<void> {
    this.applyChanges(changes);
  }

  async ensureIndex(collection: string, field: string): Promise<void> {
    assertCollectionName(collection);
    if (!FIELD.test(field)) throw new Error(`invalid index field "${field}"`);
    if (this.indexSet(collection).has(field)) return;
    this.ensureTable(collection);
    this.db.exec(`CREATE INDEX IF NOT EXISTS "i_${collection}__${field}" ON ${table(collection)} (json_extract(doc, '$.${field}'))`);
    this.db.prepare('INSERT OR IGNORE INTO _indexes (collection, field) VALUES (?, ?)').run(collection, field);
    this.indexSet(collection).add(field);
  }

  async listCollections(): Promise<string[]> {
    return [...this.known].sort();
  }

  async dropCollection(name: string): Promise<void> {
    assertCollectionName(name);
    this.db.exec(`DROP TABLE IF EXISTS ${table(name)}`);
    this.db.prepare('DELETE FROM _indexes WHERE collection = ?').run(name);
    this.known.delete(name);
    this.indexed.delete(name);
    this.statements.clear();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // --- used by EmbeddedCollection ---

  exists(collection: string): boolean {
    return this.known.has(collection);
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
  }

  /** SQL for the part of a filter that indexes can answer exactly; `exact` when that is all of it. */
  translate(collection: string, filter: Filter): Sql & { exact: boolean } {
    const fields = this.indexed.get(collection) ?? new Set<string>();
    const clauses: string[] = [];
    const params: unknown[] = [];
    let exact = true;
    for (const [key, condition] of Object.entries(filter)) {
      const column = key === '_id' ? 'id' : fields.has(key) ? `json_extract(doc, '$.${key}')` : undefined;
      const sql = column && condition !== undefined ? conditionSql(column, condition, params) : undefined;
      if (sql) clauses.push(sql);
      else exact = false;
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params, exact };
  }

  sortSql(collection: string, sort: Record<string, 1 | -1> | undefined): string | undefined {
    if (!sort || Object.keys(sort).length === 0) return 'ORDER BY id';
    const fields = this.indexed.get(collection) ?? new Set<string>();
    const parts: string[] = [];
    for (const [key, direction] of Object.entries(sort)) {
      const column = key === '_id' ? 'id' : fields.has(key) ? `json_extract(doc, '$.${key}')` : undefined;
      if (!column) return undefined;
      parts.push(`${column} ${direction === -1 ? 'DESC' : 'ASC'}`);
    }
    // Ties fall back to _id, so pages are stable across both adapters.
    if (!('_id' in sort)) parts.push('id ASC');
    return `ORDER BY ${parts.join(', ')}`;
  }

  private indexSet(collection: string): Set<string> {
    let set = this.indexed.get(collection);
    if (!set) this.indexed.set(collection, (set = new Set()));
    return set;
  }
}

const table = (collection: string) => `"c_${collection}"`;

function conditionSql(column: string, condition: unknown, params: unknown[]): string | undefined {
  if (SCALAR(condition)) {
    if (condition === null) return `${column} IS NULL`;
    params.push(typeof condition === 'boolean' ? Number(condition) : condition);
    return `${column} = ?`;
  }
  if (typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  const parts: string[] = [];
  const ops: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=', $eq: '=' };
  for (const [op, value] of Object.entries(condition as Record<string, unknown>)) {
    if (op in ops && (typeof value === 'number' || typeof value === 'string')) {
      // MongoDB compares only within a type: a number bound never matches strings and vice versa.
      parts.push(`${column} ${ops[op]} ? AND typeof(${column}) ${typeof value === 'number' ? "IN ('integer','real')" : "= 'text'"}`);
      params.push(value);
    } else if (op === '$in' && Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      parts.push(`${column} IN (${value.map(() => '?').join(',')})`);
      params.push(...value);
    } else {
      return undefined;
    }
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

class EmbeddedCollection<T extends Document> implements ReadCollection<T> {
  constructor(
    private readonly store: EmbeddedReadStore,
    readonly name: string,
  ) {}

  async findById(id: string): Promise<T | null> {
    if (!this.store.exists(this.name)) return null;
    const row = this.store.prepare(`SELECT doc FROM ${table(this.name)} WHERE id = ?`).get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  async findByIds(ids: string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    if (!this.store.exists(this.name) || ids.length === 0) return found;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.store.prepare(`SELECT id, doc FROM ${table(this.name)} WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as { id: string; doc: string }[];
      for (const row of rows) found.set(row.id, JSON.parse(row.doc) as T);
    }
    return found;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    if (!this.store.exists(this.name)) return [];
    const sql = this.store.translate(this.name, filter);
    const order = this.store.sortSql(this.name, options.sort);
    if (sql.exact && order) {
      let query = `SELECT doc FROM ${table(this.name)} ${sql.where} ${order}`;
      const params = [...sql.params];
      if (options.limit !== undefined || options.skip !== undefined) {
        query += ' LIMIT ? OFFSET ?';
        params.push(options.limit ?? -1, options.skip ?? 0);
      }
      return (this.store.prepare(query).all(...params) as { doc: string }[]).map((r) => JSON.parse(r.doc) as T);
    }
    const rows = this.store.prepare(`SELECT doc FROM ${table(this.name)} ${sql.where} ORDER BY id`).all(...sql.params) as { doc: string }[];
    let cursor = mingoFind(rows.map((r) => JSON.parse(r.doc)), filter);
    cursor = cursor.sort({ ...(options.sort ?? {}), ...(options.sort && '_id' in options.sort ? {} : { _id: 1 }) });
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return cursor.all() as T[];
  }

  async count(filter: Filter = {}): Promise<number> {
    if (!this.store.exists(this.name)) return 0;
    const sql = this.store.translate(this.name, filter);
    if (sql.exact) {
      return (this.store.prepare(`SELECT count(*) AS n FROM ${table(this.name)} ${sql.where}`).get(...sql.params) as { n: number }).n;
    }
    return (await this.find(filter)).length;
  }

  async upsert(doc: T): Promise<void> {
    await this.store.commit([{ collection: this.name, id: doc._id, doc }]);
  }

  async updateOne(filter: Filter, update: Update, options: { upsert?: boolean } = {}): Promise<{ matched: number; upserted: boolean }> {
    const [current] = await this.find(filter, { limit: 1 });
    if (current) {
      applyUpdate(current, stripSetOnInsert(update));
      await this.upsert(current);
      return { matched: 1, upserted: false };
    }
    if (!options.upsert) return { matched: 0, upserted: false };
    const seed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(filter)) if (!key.startsWith('$') && SCALAR(value)) seed[key] = value;
    const insertUpdate = { ...update } as Record<string, unknown>;
    if (insertUpdate.$setOnInsert) {
      insertUpdate.$set = { ...(insertUpdate.$setOnInsert as object), ...((insertUpdate.$set as object) ?? {}) };
      delete insertUpdate.$setOnInsert;
    }
    applyUpdate(seed, insertUpdate);
    if (typeof seed._id !== 'string') throw new Error('an upsert needs a string _id in the filter or the update');
    await this.upsert(seed as T);
    return { matched: 0, upserted: true };
  }

  async deleteMany(filter: Filter): Promise<number> {
    const docs = await this.find(filter);
    await this.store.commit(docs.map((d) => ({ collection: this.name, id: d._id, doc: null })));
    return docs.length;
  }
}

function stripSetOnInsert(update: Update): Update {
  const { $setOnInsert: _, ...rest } = update as Record<string, unknown>;
  return rest;
}

