import type { Document, DocumentChange, ReadCollection, ReadStore } from '@chronicle/read-store';
import { IdFilter } from './id-filter';
import type { ProjectionContext } from './projection';

type Layer = Map<string, Map<string, Document | null>>;

/**
 * The read store failed to answer a projection's lookup: not the projection's fault, and every
 * projection would meet it, so the whole page is retried (like a failed commit) rather than the
 * projection marked failed.
 */
export class StoreReadError extends Error {
  constructor(
    readonly collection: string,
    override readonly cause: unknown,
  ) {
    super(`reading ${collection}: ${(cause as Error)?.message ?? cause}`);
    this.name = 'StoreReadError';
  }
}

/** Ids are checked before they reach the store: a bad one is its projection's failure, not the store's (nor a failed commit for every projection). */
function checkedId(collection: string, id: unknown): string {
  if (typeof id !== 'string' || id === '')
    throw new TypeError(`${collection}: a document id must be a non-empty string, not ${JSON.stringify(id) ?? String(id)}`);
  return id;
}

/**
 * Changes of one batch, per physical collection, with a read cache that survives batches (the
 * projector is the only writer of its collections). After a failed commit the cache is dropped,
 * since it may hold changes that never reached the store.
 *
 * Only documents that were read are cached: a blind write (an insert never looked up, like a
 * timeline entry) is kept in the batch's changes alone. Otherwise a replay's million write-once
 * documents would fill the cache and evict the hot ones (counters, deals) again and again. Once
 * a store read finds a document, though, that collection's blind writes are read back later
 * (a deal's link, written when it opens): from then on they are cached too.
 *
 * The changes of the previous batch stay visible (`inFlight`) until its commit is confirmed, so
 * the next batch can be applied while the store is still writing that one.
 *
 * Collections marked fresh (empty when marked, written by this unit of work alone since) keep
 * a filter of the ids written: a lookup of an id never written needs no store read.
 */
export class UnitOfWork {
  private readonly cache: Layer = new Map();
  private dirty: Layer = new Map();
  private inFlight: Layer = new Map();
  private readonly handles = new Map<string, ReadCollection>();
  /** Fresh collections and their filter seeds. */
  private readonly fresh = new Map<string, number>();
  /** Collections whose blind writes are cached (see the class comment). */
  private readonly readBack = new Set<string>();
  private filter?: IdFilter;
  private cached = 0;

  constructor(
    private readonly store: ReadStore,
    private readonly maxCached = 200_000,
  ) {}

  /** A context whose logical collection names map to the given physical ones. */
  context(physical: Readonly<Record<string, string>>): ProjectionContext {
    const name = (collection: string) => {
      const p = physical[collection];
      if (!p) throw new Error(`collection "${collection}" is not declared by this projection`);
      return p;
    };
    return {
      get: <T extends Document>(collection: string, id: string) =>
        this.get(name(collection), checkedId(collection, id)) as Promise<T | undefined>,
      put: (collection, doc) => this.set(name(collection), checkedId(collection, doc._id), doc),
      delete: (collection, id) => this.set(name(collection), checkedId(collection, id), null),
    };
  }

  async get(collection: string, id: string): Promise<Document | undefined> {
    // The cache first: it holds the newest version of what it holds (`set` keeps it up to date),
    // and most reads are hits there; each lookup in a large map is a few memory misses. Then this
    // batch's writes and the batch in flight. A layer holds null for a deleted or absent document.
    let found = this.cache.get(collection)?.get(id);
    if (found === undefined) found = this.dirty.get(collection)?.get(id);
    if (found === undefined) found = this.inFlight.get(collection)?.get(id);
    if (found !== undefined) return found ?? undefined;
    const seed = this.fresh.get(collection);
    let doc: Document | null = null;
    if (seed === undefined || this.filter!.mightHave(seed, id)) {
      try {
        doc = await this.handle(collection).findById(id);
      } catch (error) {
        throw new StoreReadError(collection, error);
      }
    }
    if (doc) this.readBack.add(collection);
    this.remember(collection, id, doc);
    return doc ?? undefined;
  }

  set(collection: string, id: string, doc: Document | null): void {
    const seed = this.fresh.get(collection);
    if (seed !== undefined) this.filter!.add(seed, id);
    const entries = this.cache.get(collection);
    if (this.readBack.has(collection)) this.remember(collection, id, doc);
    else if (entries !== undefined && entries.get(id) !== undefined) entries.set(id, doc);
    let written = this.dirty.get(collection);
    if (!written) this.dirty.set(collection, (written = new Map()));
    written.set(id, doc);
  }

  /** The batch's changes (after-images), emptied for the next batch and kept visible until `committed`. */
  takeChanges(): DocumentChange[] {
    const changes: DocumentChange[] = [];
    for (const [collection, entries] of this.dirty) {
      for (const [id, doc] of entries) changes.push({ collection, id, doc });
    }
    this.inFlight = this.dirty;
    this.dirty = new Map();
    if (this.cached > this.maxCached) {
      // Documents of the batch in flight stay readable through `inFlight`.
      this.cache.clear();
      this.cached = 0;
    }
    return changes;
  }

  /** The last batch taken is in the store: reads of its documents may go there. */
  committed(): void {
    this.inFlight = new Map();
  }

  reset(): void {
    this.cache.clear();
    this.readBack.clear();
    this.dirty = new Map();
    this.inFlight = new Map();
    this.cached = 0;
  }

  /**
   * Declares a collection that is empty now and that only this unit of work will write: see the
   * class comment. Its filter then covers everything it ever holds, committed or not.
   */
  markFresh(collection: string): void {
    this.filter ??= new IdFilter();
    this.fresh.set(collection, IdFilter.seedOf(collection));
  }

  /**
   * Drops this batch's changes to some collections, and what is cached of them (the cache holds
   * those changes too): a projection that failed on an event leaves nothing of the batch behind.
   * The batch in flight and the fresh marks stay (the filter may only have more ids than written).
   */
  discard(collections: string[]): void {
    for (const c of collections) {
      this.dirty.delete(c);
      this.cached -= this.cache.get(c)?.size ?? 0;
      this.cache.delete(c);
    }
  }

  /** Forgets the cached documents of some collections (e.g. after they are dropped). */
  forget(collections: string[]): void {
    for (const c of collections) {
      this.cache.delete(c);
      this.handles.delete(c);
      this.fresh.delete(c);
      this.readBack.delete(c);
    }
  }

  private handle(collection: string): ReadCollection {
    let handle = this.handles.get(collection);
    if (!handle) this.handles.set(collection, (handle = this.store.collection(collection)));
    return handle;
  }

  private remember(collection: string, id: string, doc: Document | null): void {
    let entries = this.cache.get(collection);
    if (!entries) this.cache.set(collection, (entries = new Map()));
    if (!entries.has(id)) this.cached += 1;
    entries.set(id, doc);
  }
}
