import type Database from 'better-sqlite3';
import { openSqlite } from '@chronicle/sqlite';
import type { Fence } from '@chronicle/cluster';
import { find as mingoFind, update as applyUpdate } from 'mingo';
import { assertCollectionName, Document, DocumentChange, Filter, FindOptions, ReadCollection, ReadStore, Update } from '../read-store';
import { assertChangeIds, assertFencesValid, assertIndexField, upsertId, upsertSeed } from '../semantics';
import { DocumentWriter, KIND, kindsOfJsonTypes, ORDER_UNSAFE, readModelSqlite, Synchronous, table } from './document-writer';
import { WriterThread } from './writer-thread';

type Sql = { where: string; params: unknown[] };

/**
 * SQLite's planner picks among the `json_extract` indexes by statistics: without them it takes an
 * equality on a field that nearly every document shares (`archived = false`) for a selective one,
 * and a filtered list reads the whole collection (≈ 100 ms per 50,000 documents instead of 0.3).
 * `PRAGMA optimize` gathers them where they are missing or stale (a table grown many times over),
 * sampling a bounded number of rows: at open, then after enough changes, at most once a minute.
 */
const OPTIMIZE = 'optimize = 0x10002';
const OPTIMIZE_AFTER_CHANGES = 10_000;
const OPTIMIZE_EVERY_MS = 60_000;

const sortable = (kinds: number) => (kinds & ORDER_UNSAFE) === 0 && !(kinds & KIND.boolean && kinds & (KIND.number | KIND.string));

/**
 * Embedded read store: one SQLite table per collection holding JSON documents. Filters on
 * indexed top-level fields are translated to SQL on `json_extract` expression indexes; the
 * rest is evaluated by mingo with MongoDB semantics, so results match the MongoDB adapter.
 * Index metadata (which fields, and which JSON types they have held) lives in the `_indexes`
 * table and is read per query, so several processes can share one file.
 */
export interface EmbeddedReadStoreOptions {
  synchronous?: Synchronous;
  /**
   * Batches of at least this many changes are committed by a writer thread on a connection of
   * its own (started on first use), so that the caller can apply its next batch meanwhile; smaller
   * ones, and every batch while none is under way there, commit on the calling thread. Default
   * 1,000; 0 sends every batch to the thread, Infinity none.
   */
  threadedCommitAt?: number;
}

export class EmbeddedReadStore implements ReadStore {
  readonly kind = 'embedded' as const;
  private readonly db: Database.Database;
  private readonly writer: DocumentWriter;
  private readonly synchronous: Synchronous;
  private readonly threadedCommitAt: number;
  private thread?: WriterThread;
  private changesSinceOptimize = 0;
  private optimizedAt = Date.now();

  constructor(
    private readonly filename: string,
    options: EmbeddedReadStoreOptions = {},
  ) {
    this.synchronous = options.synchronous ?? 'NORMAL';
    // A second connection cannot see an in-memory database.
    this.threadedCommitAt = filename === ':memory:' ? Infinity : (options.threadedCommitAt ?? 1000);
    this.db = openSqlite(filename, readModelSqlite(this.synchronous));
    this.db
      .transaction(() => {
        this.db.exec(
          'CREATE TABLE IF NOT EXISTS _indexes (collection TEXT NOT NULL, field TEXT NOT NULL, kinds INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (collection, field))',
        );
        const columns = this.db.prepare('PRAGMA table_info(_indexes)').all() as { name: string }[];
        if (!columns.some((c) => c.name === 'kinds')) {
          // Files written before kinds were tracked: learn them from the data once.
          this.db.exec('ALTER TABLE _indexes ADD COLUMN kinds INTEGER NOT NULL DEFAULT 0');
          for (const row of this.db.prepare('SELECT collection, field FROM _indexes').all() as { collection: string; field: string }[]) {
            const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(`c_${row.collection}`);
            const kinds = exists ? this.scanKinds(row.collection, row.field) : 0;
            this.db.prepare('UPDATE _indexes SET kinds = ? WHERE collection = ? AND field = ?').run(kinds, row.collection, row.field);
          }
        }
      })
      .immediate();
    this.writer = new DocumentWriter(this.db);
    this.db.pragma(OPTIMIZE);
  }

  collection<T extends Document = Document>(name: string): ReadCollection<T> {
    assertCollectionName(name);
    return new EmbeddedCollection<T>(this, name);
  }

  async commit(changes: DocumentChange[]): Promise<void> {
    assertChangeIds(changes);
    assertFencesValid(changes);
    // Encoded here (JSON text): what is sent reflects the documents as they are now.
    const batch = this.writer.encode(changes);
    this.changesSinceOptimize += changes.length;
    // While the thread has batches under way, later ones queue behind them there: order holds.
    if (changes.length < this.threadedCommitAt && !this.thread?.busy) this.writer.apply(batch);
    else {
      if (!this.thread?.usable) this.thread = new WriterThread(this.filename, this.synchronous);
      await this.thread.commit(batch);
    }
    if (this.changesSinceOptimize >= OPTIMIZE_AFTER_CHANGES && Date.now() - this.optimizedAt >= OPTIMIZE_EVERY_MS) await this.optimize();
  }

  /** Refreshes the planner's statistics where they are missing or stale (see OPTIMIZE). */
  async optimize(): Promise<void> {
    this.changesSinceOptimize = 0;
    this.optimizedAt = Date.now();
    await this.idle();
    if (this.db.open) this.db.pragma(OPTIMIZE);
  }

  async claimFence(fence: Fence): Promise<void> {
    await this.idle();
    this.writer.claimFence(fence.role, fence.token);
  }

  /** Resolves once no batch is under way on the writer thread; writes of this connection wait for it. */
  async idle(): Promise<void> {
    await this.thread?.idle();
  }

  async ensureIndex(collection: string, field: string): Promise<void> {
    assertCollectionName(collection);
    assertIndexField(field);
    await this.idle();
    this.db
      .transaction(() => {
        this.ensureTable(collection);
        if (this.prepare('SELECT 1 FROM _indexes WHERE collection = ? AND field = ?').get(collection, field)) return;
        this.db.exec(`CREATE INDEX IF NOT EXISTS "i_${collection}__${field}" ON ${table(collection)} (json_extract(doc, '$.${field}'))`);
        this.prepare('INSERT INTO _indexes (collection, field, kinds) VALUES (?, ?, ?)').run(
          collection,
          field,
          this.scanKinds(collection, field),
        );
      })
      .immediate();
  }

  async listCollections(): Promise<string[]> {
    return this.tableNames().sort();
  }

  async dropCollection(name: string): Promise<void> {
    assertCollectionName(name);
    await this.idle();
    this.db
      .transaction(() => {
        this.db.exec(`DROP TABLE IF EXISTS ${table(name)}`);
        this.db.prepare('DELETE FROM _indexes WHERE collection = ?').run(name);
      })
      .immediate();
    this.writer.forget(name);
    this.thread?.forget(name);
  }

  /** Copies the WAL into the file and empties it: older page versions (erased values) go with it. */
  async scrub(): Promise<void> {
    await this.idle();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    await this.thread?.close();
    this.thread = undefined;
    if (this.db.open) this.db.close();
  }

  // --- used by EmbeddedCollection ---

  exists(collection: string): boolean {
    if (this.writer.known.has(collection)) return true;
    // Another process, store or the writer thread sharing the file may have created it since.
    if (this.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(`c_${collection}`))
      this.writer.known.add(collection);
    return this.writer.known.has(collection);
  }

  prepare(sql: string): Database.Statement {
    return this.writer.prepare(sql);
  }

  ensureTable(collection: string): void {
    this.writer.ensureTable(collection);
  }

  indexInfo(collection: string): { field: string; kinds: number }[] {
    return this.writer.indexInfo(collection);
  }

  /** SQL for the part of a filter that indexes can answer exactly; `exact` when that is all of it. */
  translate(collection: string, filter: Filter, indexes = this.indexInfo(collection)): Sql & { exact: boolean } {
    const kinds = new Map(indexes.map((i) => [i.field, i.kinds]));
    const clauses: string[] = [];
    const params: unknown[] = [];
    let exact = true;
    for (const [key, condition] of Object.entries(filter)) {
      let sql: string | undefined;
      if (key === '_id') sql = idConditionSql(condition, params);
      else if (kinds.has(key) && !(kinds.get(key)! & KIND.array)) sql = conditionSql(key, condition, params);
      if (sql) clauses.push(sql);
      else exact = false;
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params, exact };
  }

  /** ORDER BY for a sort SQL can do exactly as MongoDB would, or undefined. */
  sortSql(collection: string, sort: Record<string, 1 | -1> | undefined, indexes = this.indexInfo(collection)): string | undefined {
    if (!sort || Object.keys(sort).length === 0) return 'ORDER BY id';
    const kinds = new Map(indexes.map((i) => [i.field, i.kinds]));
    const parts: string[] = [];
    for (const [key, direction] of Object.entries(sort)) {
      const column = key === '_id' ? 'id' : kinds.has(key) && sortable(kinds.get(key)!) ? extract(key) : undefined;
      if (!column) return undefined;
      parts.push(`${column} ${direction === -1 ? 'DESC' : 'ASC'}`);
    }
    // Ties fall back to _id, so pages are stable across both adapters.
    if (!('_id' in sort)) parts.push('id ASC');
    return `ORDER BY ${parts.join(', ')}`;
  }

  private scanKinds(collection: string, field: string): number {
    const rows = this.db.prepare(`SELECT DISTINCT json_type(doc, '$.${field}') AS t FROM ${table(collection)}`).all() as {
      t: string | null;
    }[];
    return kindsOfJsonTypes(rows.map((r) => r.t));
  }

  private tableNames(): string[] {
    return this.writer.tableNames();
  }
}

const extract = (field: string) => `json_extract(doc, '$.${field}')`;
const jsonType = (field: string) => `json_type(doc, '$.${field}')`;
const RANGE: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=', $eq: '=' };

/** `_id` is the TEXT primary key and always a string: string conditions map to it directly. */
function idConditionSql(condition: unknown, params: unknown[]): string | undefined {
  if (typeof condition === 'string') {
    params.push(condition);
    return 'id = ?';
  }
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition) || condition instanceof RegExp) return undefined;
  const parts: string[] = [];
  for (const [op, value] of Object.entries(condition as Record<string, unknown>)) {
    if (op in RANGE && typeof value === 'string') {
      parts.push(`id ${RANGE[op]} ?`);
      params.push(value);
    } else if (op === '$in' && Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      parts.push(value.length ? `id IN (${value.map(() => '?').join(',')})` : '0');
      params.push(...value);
    } else {
      return undefined;
    }
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

/**
 * A condition on an indexed field that holds no arrays. `json_extract` maps JSON true/false to
 * 1/0 and documents to JSON text, so every comparison also checks `json_type`: MongoDB compares
 * within one type only (a number bound never matches strings, `true` is not `1`).
 */
function conditionSql(field: string, condition: unknown, params: unknown[]): string | undefined {
  const column = extract(field);
  const type = jsonType(field);
  const equals = (value: unknown): string | undefined => {
    if (value === null) return `${column} IS NULL`; // null or missing, as in MongoDB
    if (typeof value === 'boolean') {
      params.push(value ? 1 : 0);
      return `(${column} = ? AND ${type} = '${value}')`;
    }
    if (typeof value === 'number' || typeof value === 'string') {
      params.push(value);
      return `(${column} = ? AND ${type} ${typeof value === 'number' ? "IN ('integer','real')" : "= 'text'"})`;
    }
    return undefined;
  };
  if (condition === null || ['string', 'number', 'boolean'].includes(typeof condition)) return equals(condition);
  if (typeof condition !== 'object' || Array.isArray(condition) || condition instanceof RegExp) return undefined;
  const parts: string[] = [];
  for (const [op, value] of Object.entries(condition as Record<string, unknown>)) {
    if (op === '$eq') {
      const sql = equals(value);
      if (!sql) return undefined;
      parts.push(sql);
    } else if (op in RANGE && (typeof value === 'number' || typeof value === 'string')) {
      parts.push(`(${column} ${RANGE[op]} ? AND ${type} ${typeof value === 'number' ? "IN ('integer','real')" : "= 'text'"})`);
      params.push(value);
    } else if (op === '$in' && Array.isArray(value)) {
      const sql = inSql(column, type, value, params);
      if (!sql) return undefined;
      parts.push(sql);
    } else {
      return undefined;
    }
  }
  return parts.length ? parts.join(' AND ') : undefined;
}

function inSql(column: string, type: string, values: unknown[], params: unknown[]): string | undefined {
  if (values.length === 0) return '0';
  const scalars = values.filter((v) => v !== null);
  const types = new Set(scalars.map((v) => typeof v));
  if ([...types].some((t) => !['string', 'number', 'boolean'].includes(t))) return undefined;
  // 1/0 of a boolean would also match the numbers 1/0: mixed lists go through mingo.
  if (types.has('boolean') && types.has('number')) return undefined;
  const alternatives: string[] = [];
  if (scalars.length) {
    const jsonTypes = [
      ...(types.has('number') ? ["'integer'", "'real'"] : []),
      ...(types.has('string') ? ["'text'"] : []),
      ...(types.has('boolean') ? [...new Set(scalars.filter((v) => typeof v === 'boolean').map((v) => `'${v}'`))] : []),
    ];
    alternatives.push(`(${column} IN (${scalars.map(() => '?').join(',')}) AND ${type} IN (${jsonTypes.join(',')}))`);
    params.push(...scalars.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
  }
  if (scalars.length < values.length) alternatives.push(`${column} IS NULL`);
  return alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' OR ')})`;
}

class EmbeddedCollection<T extends Document> implements ReadCollection<T> {
  // Built once: the projector looks documents up by id millions of times in a replay.
  private readonly byIdSql: string;

  constructor(
    private readonly store: EmbeddedReadStore,
    readonly name: string,
  ) {
    this.byIdSql = `SELECT doc FROM ${table(name)} WHERE id = ?`;
  }

  async findById(id: string): Promise<T | null> {
    if (!this.store.exists(this.name)) return null;
    const row = this.store.prepare(this.byIdSql).get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  async findByIds(ids: string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    if (!this.store.exists(this.name) || ids.length === 0) return found;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.store
        .prepare(`SELECT id, doc FROM ${table(this.name)} WHERE id IN (${chunk.map(() => '?').join(',')})`)
        .all(...chunk) as { id: string; doc: string }[];
      for (const row of rows) found.set(row.id, JSON.parse(row.doc) as T);
    }
    return found;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    if (!this.store.exists(this.name) || options.limit === 0) return [];
    const indexes = this.store.indexInfo(this.name);
    const sql = this.store.translate(this.name, filter, indexes);
    const order = this.store.sortSql(this.name, options.sort, indexes);
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
    let cursor = mingoFind(
      rows.map((r) => JSON.parse(r.doc)),
      filter,
    );
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
    await this.store.idle(); // read-modify-write: batches under way on the writer thread first
    const [current] = await this.find(filter, { limit: 1 });
    if (current) {
      const { $setOnInsert: _, ...rest } = update as Record<string, unknown>;
      applyUpdate(current, rest);
      await this.upsert(current);
      return { matched: 1, upserted: false };
    }
    if (!options.upsert) return { matched: 0, upserted: false };
    // MongoDB: the filter's equality conditions, then the update with $setOnInsert applied too.
    const id = upsertId(filter, update);
    if (await this.findById(id))
      throw new Error(`E11000 duplicate key: an upsert would insert _id "${id}", which exists but does not match the filter`);
    const seed = { ...upsertSeed(filter), _id: id };
    const { $setOnInsert: onInsert, ...rest } = update as Record<string, unknown>;
    const insertUpdate: Record<string, unknown> = { ...rest };
    const { _id: _a, ...insertSet } = { ...((onInsert as object) ?? {}), ...((rest.$set as object) ?? {}) } as Record<string, unknown>;
    if (Object.keys(insertSet).length) insertUpdate.$set = insertSet;
    else delete insertUpdate.$set;
    applyUpdate(seed, insertUpdate);
    await this.upsert(seed as T);
    return { matched: 0, upserted: true };
  }

  async deleteMany(filter: Filter): Promise<number> {
    await this.store.idle();
    const docs = await this.find(filter);
    await this.store.commit(docs.map((d) => ({ collection: this.name, id: d._id, doc: null })));
    return docs.length;
  }
}
