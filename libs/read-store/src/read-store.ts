import type { Fence } from '@chronicle/cluster';

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
  /**
   * The lease the change is written under (the projection's role): a commit whose fence is stale
   * is refused (FencedError). In one commit either every change has a fence or none has.
   */
  fence?: Fence;
}

/**
 * Some roles' changes of a fenced commit were committed and others were not. Only the redo journal
 * does this: it commits each role's changes as a batch of its own (every batch is still atomic).
 */
export class PartialCommitError extends Error {
  constructor(
    /** Roles whose changes are committed. */
    readonly committed: string[],
    /** Roles refused by their fence. */
    readonly fenced: string[],
    override readonly cause: unknown,
  ) {
    super(
      `commit partly failed: ${committed.length} role(s) committed, ${fenced.length ? `fenced: ${fenced.join(', ')}, ` : ''}first error: ${(cause as Error)?.message ?? cause}`,
    );
    this.name = 'PartialCommitError';
  }
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
   * caller may change them before the returned promise settles. Fenced changes (see
   * DocumentChange.fence) are refused with a FencedError when a higher token has claimed their
   * role; the redo journal commits each role apart (PartialCommitError).
   */
  commit(changes: DocumentChange[]): Promise<void>;
  /**
   * Claims a role's fence for a new lease: from now on commits fenced with a lower token are
   * refused. Finishes a batch its previous holder committed but may not have applied completely.
   * Throws FencedError when the fence is already higher. Claiming again with the same token is a no-op.
   */
  claimFence(fence: Fence): Promise<void>;
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
