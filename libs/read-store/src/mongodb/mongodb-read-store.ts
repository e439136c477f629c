import { AnyBulkWriteOperation, ClientSession, Collection, Db, MongoClient, MongoClientOptions, Sort } from 'mongodb';
import { Fence, FencedError, isFencedError } from '@chronicle/cluster';
import {
  assertCollectionName,
  Document,
  DocumentChange,
  Filter,
  FindOptions,
  PartialCommitError,
  ReadCollection,
  ReadStore,
  Update,
} from '../read-store';
import { assertFencesValid, assertIndexField, copyDocument, flattenAnd, normalizeChanges, upsertId } from '../semantics';
import { decodeDocument, encodeDocument, encodeUpdate } from './ferretdb-codec';
import { FENCES_COLLECTION, JournalOptions, JOURNAL_COLLECTION, RedoJournal } from './redo-journal';

export type Atomicity = 'transaction' | 'journal';

export interface MongoReadStoreOptions {
  /**
   * How `commit` is made atomic. `auto` (default): a multi-document transaction on a replica set
   * or behind mongos when sessions work, the redo journal otherwise (FerretDB, standalone mongod).
   */
  atomicity?: 'auto' | Atomicity;
  /** Finish or discard batches a crashed process left in the journal while connecting (default true); otherwise before the first write. */
  recover?: boolean;
  journal?: JournalOptions;
  /**
   * Store nested arrays and keys with '.' or a leading '$' encoded (see ferretdb-codec.ts).
   * Default: on FerretDB, which refuses them; MongoDB takes them as they are.
   */
  encodeDocuments?: boolean;
  /** Database when the URL names none (default "chronicle"). */
  defaultDatabase?: string;
  clientOptions?: MongoClientOptions;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** The database named by a mongodb:// URL's path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]*)/.exec(url);
  const name = match ? decodeURIComponent(match[1]) : '';
  return name || undefined;
}

/**
 * Read store on MongoDB through the official driver, with the embedded adapter's semantics:
 * default order by _id, ties broken by _id, `limit: 0` returning nothing, string _ids only.
 * Queries are passed to the server as they are (portable subset: docs/read-store.md).
 */
export class MongoReadStore implements ReadStore {
  readonly kind = 'mongodb' as const;
  /** The redo journal used where transactions are not (its `hook` lets tests stop a commit part-way). */
  readonly journal: RedoJournal;
  /** Whether documents go through the FerretDB codec. */
  readonly encodes: boolean;
  private closed = false;
  private recovery?: Promise<void>;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
    readonly atomicity: Atomicity,
    /** The server's version, and FerretDB's when it is FerretDB. */
    readonly server: { version: string; ferretdb?: string },
    options: MongoReadStoreOptions,
  ) {
    this.encodes = options.encodeDocuments ?? !!server.ferretdb;
    const journal: JournalOptions = { applyBy: server.ferretdb ? 'delete-insert' : 'replace', ...options.journal };
    this.journal = new RedoJournal(
      db,
      () => this.closed,
      (level, message) => options.log?.(level, message),
      journal,
    );
  }

  static async connect(url: string, options: MongoReadStoreOptions = {}): Promise<MongoReadStore> {
    // ignoreUndefined: an undefined field is left out, as JSON (the embedded store) does.
    const client = new MongoClient(url, { ignoreUndefined: true, ...options.clientOptions });
    await client.connect();
    try {
      const db = client.db(databaseFromUrl(url) ?? options.defaultDatabase ?? 'chronicle');
      const info = await db.admin().command({ buildInfo: 1 });
      const server = { version: String(info.version), ferretdb: (info.ferretdbVersion ?? info.ferretdb?.version) as string | undefined };
      const atomicity = await detectAtomicity(client, db, options.atomicity ?? 'auto');
      const store = new MongoReadStore(client, db, atomicity, server, options);
      if (options.recover !== false) await store.ready();
      const kind = server.ferretdb ? `FerretDB ${server.ferretdb}` : `MongoDB ${server.version}`;
      options.log?.('info', `read store: ${kind}, database "${db.databaseName}", atomic commits by ${atomicity}`);
      return store;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  collection<T extends Document = Document>(name: string): ReadCollection<T> {
    assertCollectionName(name);
    return new MongoCollection<T>(this, name);
  }

  async commit(changes: DocumentChange[]): Promise<void> {
    let batch = normalizeChanges(changes);
    if (batch.length === 0) return;
    // Copied before the first await: the caller may change its documents as soon as this returns
    // (the projector applies its next page meanwhile), and the driver serializes them later.
    batch = batch.map((c) => (c.doc ? { ...c, doc: this.encodes ? encodeDocument(copyDocument(c.doc)) : copyDocument(c.doc) } : c));
    await this.ready();
    const fences = fencesOf(batch);
    assertFencesValid(batch);
    if (fences.length > 0) return this.commitFenced(batch, fences);
    if (batch.length === 1) {
      await this.applyOne(batch[0]); // one document: atomic by itself
    } else if (this.atomicity === 'transaction') {
      await this.commitInTransaction(batch);
    } else {
      await this.journal.commit(batch);
    }
  }

  async claimFence(fence: Fence): Promise<void> {
    await this.ready();
    if (this.atomicity === 'journal') return this.journal.claimFence(fence);
    try {
      // One document per role; a real MongoDB applies a filtered update atomically.
      await this.raw(FENCES_COLLECTION).updateOne(
        { _id: fence.role, token: { $lte: fence.token } },
        { $set: { token: fence.token } },
        { upsert: true, writeConcern: { w: 'majority' } },
      );
    } catch (error) {
      if (isDuplicateKey(error)) throw new FencedError([fence.role], 'its fence is at a higher token');
      throw error;
    }
  }

  /**
   * In a transaction, every role's fence document is raised in the same transaction as the writes
   * (a stale one aborts it; a concurrent claim conflicts with it). With the redo journal each
   * role's changes are a batch of their own in the role's chain (RedoJournal.commitFenced).
   */
  private async commitFenced(batch: DocumentChange[], fences: Fence[]): Promise<void> {
    if (this.atomicity === 'transaction') return this.commitInTransaction(batch, fences);
    const groups = new Map<string, { fence: Fence; changes: DocumentChange[] }>(fences.map((f) => [f.role, { fence: f, changes: [] }]));
    for (const change of batch) groups.get(change.fence!.role)!.changes.push(change);
    const { committed, failed } = await this.journal.commitFenced([...groups.values()]);
    if (failed.length === 0) return;
    const fenced = failed.filter((f) => isFencedError(f.error)).map((f) => f.role);
    if (committed.length === 0 && fenced.length === failed.length) throw new FencedError(fenced);
    if (committed.length === 0) throw failed.find((f) => !isFencedError(f.error))!.error;
    throw new PartialCommitError(committed, fenced, failed.find((f) => !isFencedError(f.error))?.error ?? failed[0].error);
  }

  async ensureIndex(collection: string, field: string): Promise<void> {
    assertCollectionName(collection);
    assertIndexField(field);
    try {
      await this.raw(collection).createIndex({ [field]: 1 });
    } catch (error) {
      // Two processes creating the same index at once (a role's new holder while its previous one
      // still starts): FerretDB refuses the second with "already exists". Its being there is the point.
      const indexes = await this.raw(collection)
        .listIndexes()
        .toArray()
        .catch(() => []);
      if (!indexes.some((i) => Object.keys(i.key as object).join() === field)) throw error;
    }
  }

  async listCollections(): Promise<string[]> {
    const infos = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return infos
      .map((i) => i.name)
      .filter((n) => n !== JOURNAL_COLLECTION && n !== FENCES_COLLECTION && !n.startsWith('system.'))
      .sort();
  }

  async dropCollection(name: string): Promise<void> {
    assertCollectionName(name);
    try {
      await this.db.dropCollection(name);
    } catch (error) {
      if ((error as { code?: number }).code !== 26) throw error; // NamespaceNotFound: nothing to drop
    }
  }

  /** Nothing the driver can do: MongoDB's storage engine reclaims old versions itself (docs/personal-data.md). */
  async scrub(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }

  /** Runs journal recovery now (it also runs on connect, or before the first write). */
  async recover(): Promise<void> {
    await this.journal.recover();
  }

  /** Resolves once the journal left by earlier processes has been dealt with. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('read store closed'));
    this.recovery ??= this.recover().catch((error) => {
      this.recovery = undefined; // try again on the next write
      throw error;
    });
    return this.recovery;
  }

  raw<T extends Document = Document>(name: string): Collection<T> {
    return this.db.collection<T>(name);
  }

  /** A document as read from the server, decoded. */
  decode<T>(doc: T): T {
    return this.encodes ? decodeDocument(doc) : doc;
  }

  /** An update's values, encoded for the server. */
  encodeUpdate(update: Update): Update {
    return this.encodes ? encodeUpdate(update) : update;
  }

  private async applyOne(change: DocumentChange): Promise<void> {
    const collection = this.raw(change.collection);
    if (change.doc) await collection.replaceOne({ _id: change.id }, change.doc, { upsert: true });
    else await collection.deleteOne({ _id: change.id });
  }

  private async commitInTransaction(changes: DocumentChange[], fences: Fence[] = []): Promise<void> {
    const byCollection = new Map<string, AnyBulkWriteOperation<Document>[]>();
    for (const change of changes) {
      let ops = byCollection.get(change.collection);
      if (!ops) byCollection.set(change.collection, (ops = []));
      ops.push(
        change.doc
          ? { replaceOne: { filter: { _id: change.id }, replacement: change.doc, upsert: true } }
          : { deleteOne: { filter: { _id: change.id } } },
      );
    }
    const session = this.client.startSession();
    try {
      // withTransaction retries transient errors and an unknown commit result.
      await session.withTransaction(async () => {
        await this.raiseFences(fences, session);
        let first = true;
        for (const [collection, ops] of byCollection) {
          await this.raw(collection).bulkWrite(ops, { session, ordered: false });
          if (first && byCollection.size > 1) await this.transactionHook?.();
          first = false;
        }
      });
    } finally {
      await session.endSession().catch(() => undefined);
    }
  }

  private async raiseFences(fences: Fence[], session: ClientSession): Promise<void> {
    const stale: string[] = [];
    for (const fence of fences) {
      try {
        await this.raw(FENCES_COLLECTION).updateOne(
          { _id: fence.role, token: { $lte: fence.token } },
          { $set: { token: fence.token } },
          { upsert: true, session },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        stale.push(fence.role);
      }
    }
    // Not a transient error: withTransaction does not retry it, and the transaction is aborted.
    if (stale.length > 0) throw new FencedError(stale);
  }

  /** Test hook: runs inside a transaction after its first collection's writes (throw to abort it). */
  transactionHook?: () => void | Promise<void>;
}

async function detectAtomicity(client: MongoClient, db: Db, wanted: 'auto' | Atomicity): Promise<Atomicity> {
  if (wanted === 'journal') return 'journal';
  const admin = db.admin();
  const hello = await admin.command({ hello: 1 }).catch(() => admin.command({ isMaster: 1 }));
  let supported = (typeof hello.setName === 'string' || hello.msg === 'isdbgrid') && hello.logicalSessionTimeoutMinutes != null;
  if (supported) {
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await db.collection(JOURNAL_COLLECTION).findOne({ _id: '~probe' as never }, { session });
      });
    } catch {
      supported = false;
    } finally {
      await session.endSession().catch(() => undefined);
    }
  }
  if (wanted === 'transaction' && !supported)
    throw new Error('READ_STORE=mongodb: this server does not support multi-document transactions (needs a replica set or mongos)');
  return supported ? 'transaction' : 'journal';
}

const isDuplicateKey = (error: unknown) => (error as { code?: number })?.code === 11000;

/** The distinct fences of a commit; either every change has one or none has. */
export function fencesOf(changes: DocumentChange[]): Fence[] {
  const fences = new Map<string, Fence>();
  for (const change of changes) if (change.fence) fences.set(change.fence.role, change.fence);
  if (fences.size > 0 && changes.some((c) => !c.fence)) throw new Error('a commit has either a fence on every change or on none');
  return [...fences.values()];
}

/** Sort with _id as the last key, so ties (and pages) come out in the same order on every adapter. */
function stableSort(sort: Record<string, 1 | -1> | undefined): Sort {
  if (!sort || Object.keys(sort).length === 0) return { _id: 1 };
  return '_id' in sort ? sort : { ...sort, _id: 1 };
}

class MongoCollection<T extends Document> implements ReadCollection<T> {
  constructor(
    private readonly store: MongoReadStore,
    readonly name: string,
  ) {}

  private get raw(): Collection<Document> {
    return this.store.raw(this.name);
  }

  async findById(id: string): Promise<T | null> {
    const doc = await this.raw.findOne({ _id: id });
    return doc ? this.store.decode(doc as T) : null;
  }

  async findByIds(ids: string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 1000) {
      const docs = await this.raw.find({ _id: { $in: unique.slice(i, i + 1000) } }).toArray();
      for (const doc of docs) found.set(doc._id, this.store.decode(doc as T));
    }
    return found;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<T[]> {
    if (options.limit === 0) return []; // MongoDB reads limit 0 as "no limit"
    const cursor = this.raw.find(filter, { sort: stableSort(options.sort), skip: options.skip || undefined, limit: options.limit });
    return (await cursor.toArray()).map((doc) => this.store.decode(doc as T));
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.raw.countDocuments(filter);
  }

  async upsert(doc: T): Promise<void> {
    await this.store.commit([{ collection: this.name, id: doc._id, doc }]);
  }

  async updateOne(query: Filter, operators: Update, options: { upsert?: boolean } = {}): Promise<{ matched: number; upserted: boolean }> {
    if (options.upsert) upsertId(query, operators); // our documents need a string _id: check before the server invents one
    const filter = options.upsert ? flattenAnd(query) : query;
    const update = this.store.encodeUpdate(operators);
    await this.store.ready();
    if (typeof filter._id === 'string') {
      const result = await this.raw.updateOne(filter, update, { upsert: options.upsert });
      return { matched: result.matchedCount, upserted: result.upsertedCount > 0 };
    }
    // The first match in _id order, as the embedded store picks it.
    for (;;) {
      const first = await this.raw.find(filter, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 1 }).next();
      if (!first) break;
      const result = await this.raw.updateOne({ $and: [filter, { _id: first._id }] }, update);
      if (result.matchedCount === 1) return { matched: 1, upserted: false };
      // changed meanwhile: look again
    }
    if (!options.upsert) return { matched: 0, upserted: false };
    const result = await this.raw.updateOne(filter, update, { upsert: true });
    return { matched: result.matchedCount, upserted: result.upsertedCount > 0 };
  }

  async deleteMany(filter: Filter): Promise<number> {
    await this.store.ready();
    return (await this.raw.deleteMany(filter)).deletedCount;
  }
}
