import type { Document, DocumentChange, ReadStore } from '@chronicle/read-store';
import type { ProjectionContext } from './projection';

/**
 * Changes of one batch, per physical collection, with a read cache that survives batches (the
 * projector is the only writer of its collections). After a failed commit the cache is dropped,
 * since it may hold changes that never reached the store.
 */
export class UnitOfWork {
  private readonly cache = new Map<string, Map<string, Document | null>>();
  private dirty = new Map<string, Map<string, Document | null>>();
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
      get: <T extends Document>(collection: string, id: string) => this.get(name(collection), id) as Promise<T | undefined>,
      put: (collection, doc) => this.set(name(collection), doc._id, doc),
      delete: (collection, id) => this.set(name(collection), id, null),
    };
  }

  async get(collection: string, id: string): Promise<Document | undefined> {
    const entries = this.cache.get(collection);
    if (entries?.has(id)) return entries.get(id) ?? undefined;
    const doc = await this.store.collection(collection).findById(id);
    this.remember(collection, id, doc);
    return doc ?? undefined;
  }

  set(collection: string, id: string, doc: Document | null): void {
    this.remember(collection, id, doc);
    let entries = this.dirty.get(collection);
    if (!entries) this.dirty.set(collection, (entries = new Map()));
    entries.set(id, doc);
  }

  /** The batch's changes (after-images), emptied for the next batch. */
  takeChanges(): DocumentChange[] {
    const changes: DocumentChange[] = [];
    for (const [collection, entries] of this.dirty) {
      for (const [id, doc] of entries) changes.push({ collection, id, doc });
    }
    this.dirty = new Map();
    if (this.cached > this.maxCached) this.reset();
    return changes;
  }

  reset(): void {
    this.cache.clear();
    this.dirty = new Map();
    this.cached = 0;
  }

  /** Forgets the cached documents of some collections (e.g. after they are dropped). */
  forget(collections: string[]): void {
    for (const c of collections) this.cache.delete(c);
  }

  private remember(collection: string, id: string, doc: Document | null): void {
    let entries = this.cache.get(collection);
    if (!entries) this.cache.set(collection, (entries = new Map()));
    if (!entries.has(id)) this.cached += 1;
    entries.set(id, doc);
  }
}
