/**
 * The read-store port: documents with MongoDB filter and update semantics. Two adapters:
 * embedded (SQLite documents, filters and updates through mingo) and MongoDB (official driver).
 *
 * Read models are written by the projector in batches through `commit`, which applies a set of
 * document after-images atomically (one transaction, or a redo journal where the server has no
 * transactions). Projection checkpoints are documents too, so a batch's read-model changes and
 * its checkpoint are committed together: that is the projector's exactly-once mechanism.
 */

export type Document = { _id: string } & Record<string, unknown>;
/** A MongoDB query filter, e.g. `{ ownerId: 'u-1', amount: { $gte: 100 } }`. */
export type Filter = Record<string, unknown>;
/** MongoDB update operators, e.g. `{ $set: { stage: 'won' }, $inc: { count: 1 } }`. */
export type Update = Record<string, unknown>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
}

/** The new content of one document (its after-image), or `null` to delete it. */
export interface DocumentChange {
  collection: string;
  id: string;
  doc: Document | null;
}

export interface ReadCollection<T extends Document = Document> {
  readonly name: string;
  findById(id: string): Promise<T | null>;
  findByIds(ids: string[]): Promise<Map<string, T>>;
  find(filter?: Filter, options?: FindOptions): Promise<T[]>;
  count(filter?: Filter): Promise<number>;
  /** Inserts or replaces the whole document. */
  upsert(doc: T): Promise<void>;
  /** Applies update operators to the first matching document (or inserts one, with `upsert`). */
  updateOne(filter: Filter, update: Update, options?: { upsert?: boolean }): Promise<{ matched: number; upserted: boolean }>;
  deleteMany(filter: Filter): Promise<number>;
}

export interface ReadStore {
  readonly kind: 'embedded' | 'mongodb';
  collection<T extends Document = Document>(name: string): ReadCollection<T>;
  /**
   * Applies every change or none (bulk apply). The documents are captured when it is called: the
   * caller may change them before the returned promise settles.
   */
  commit(changes: DocumentChange[]): Promise<void>;
  /** An index on a top-level scalar field; filters and sorts on it are served by the index. */
  ensureIndex(collection: string, field: string): Promise<void>;
  listCollections(): Promise<string[]>;
  dropCollection(name: string): Promise<void>;
  /**
   * Makes overwritten and deleted documents unrecoverable from the store's own files, where the
   * adapter can (the embedded store: its WAL); the projector calls it after applying an erasure.
   */
  scrub(): Promise<void>;
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/;

export function assertCollectionName(name: string): void {
  if (!NAME.test(name)) throw new Error(`invalid collection name "${name}"`);
}
