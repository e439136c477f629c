import type { ReadCollection } from '@chronicle/read-store';
import type { ReadModelAccess } from '../common/report';
import type { CustomerDocument } from './projection';

/** A full reload now and then bounds the effect of any change a sync could not see (below). */
const RELOAD_MS = 10 * 60_000;

/**
 * The `search` text of every customer, held in memory on the query side, so that `q` (a
 * substring, which no index can serve) scans short strings in memory instead of parsing every
 * stored customer document (≈ 1–2 ms instead of ≈ 150 ms for 20,000 customers).
 *
 * It stays exact: before each use it reads the customers whose search text changed since it last
 * looked — `searchSeq` is the global position of that change and is indexed, so this is one small
 * indexed query. That relies on a projector page becoming visible all at once (embedded store,
 * MongoDB with transactions). With MongoDB's redo journal (no transactions) a page's documents
 * appear one by one; a reader syncing mid-page could skip a change, which the periodic reload
 * picks up. One instance per physical collection, so a rebuild (new generation) starts afresh.
 */
export class CustomerSearchIndex {
  private readonly texts = new Map<string, { text: string; seq: number }>();
  private seen = -1;
  private loadedAt = 0;

  constructor(readonly collection: string) {}

  async sync(collection: ReadCollection<CustomerDocument>): Promise<void> {
    const full = this.seen < 0 || Date.now() - this.loadedAt > RELOAD_MS;
    const startedAt = Date.now();
    // Sorted by searchSeq so that the store walks that index (in id order it would scan them all).
    const docs = await collection.find(full ? {} : { searchSeq: { $gt: this.seen } }, full ? {} : { sort: { searchSeq: 1 } });
    if (full) this.texts.clear();
    let seen = full ? 0 : this.seen;
    for (const doc of docs) {
      const seq = doc.searchSeq;
      // Concurrent syncs may finish out of order: never replace a newer text with an older one.
      const current = this.texts.get(doc._id);
      if (!current || current.seq <= seq) this.texts.set(doc._id, { text: doc.search, seq });
      if (seq > seen) seen = seq;
    }
    this.seen = Math.max(this.seen, seen);
    if (full) this.loadedAt = startedAt;
  }

  /** Ids of the customers whose search text contains `q` (lower-cased), or 'too-many' beyond `max`. */
  match(q: string, max: number): string[] | 'too-many' {
    const ids: string[] = [];
    for (const [id, entry] of this.texts) {
      if (entry.text.includes(q)) {
        if (ids.length === max) return 'too-many';
        ids.push(id);
      }
    }
    return ids;
  }
}

/** Per read-model access (one per read store in practice), the index of the serving collection. */
const indexes = new WeakMap<ReadModelAccess, CustomerSearchIndex>();

export async function searchIndexFor(access: ReadModelAccess, collection: ReadCollection<CustomerDocument>): Promise<CustomerSearchIndex> {
  let index = indexes.get(access);
  if (!index || index.collection !== collection.name) {
    index = new CustomerSearchIndex(collection.name);
    indexes.set(access, index);
  }
  await index.sync(collection);
  return index;
}
