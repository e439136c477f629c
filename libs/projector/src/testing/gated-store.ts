import { FencedError } from '@chronicle/cluster';
import { type DocumentChange, type EmbeddedReadStore, PartialCommitError, type ReadStore } from '@chronicle/read-store';

/** A read store whose commits wait at a gate (`hold`), whose commits and lookups fail on demand, and which counts lookups by id. */
export class GatedStore implements ReadStore {
  readonly kind = 'embedded' as const;
  lookups = 0;
  gate?: { opened: Promise<void>; open(): void };
  failNext = false;
  /**
   * The role whose lease lapses while the next commit is applied (as with MongoDB's redo journal):
   * its batch counts as committed, its changes are left for its next claim, the others are applied.
   */
  lapseNext?: string;
  /** Lookups by id still to fail, like a store that cannot be reached. */
  failLookups = 0;
  /** A collection whose next index creation fails. */
  failIndexOn?: string;
  /** Commits that have reached the gate. */
  arrivals = 0;
  constructor(private readonly inner: EmbeddedReadStore) {}
  hold(): void {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { opened, open };
  }
  collection: ReadStore['collection'] = (name) => {
    const c = this.inner.collection(name);
    return Object.assign(Object.create(c), {
      findById: (id: string) => {
        this.lookups += 1;
        if (this.failLookups > 0) {
          this.failLookups -= 1;
          return Promise.reject(new Error('connection reset'));
        }
        return c.findById(id);
      },
    });
  };
  async commit(changes: DocumentChange[]): Promise<void> {
    this.arrivals += 1;
    await this.gate?.opened;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    const lapsed = this.lapseNext;
    if (lapsed) {
      this.lapseNext = undefined;
      await this.inner.commit(changes.filter((c) => c.fence?.role !== lapsed));
      const roles = [...new Set(changes.map((c) => c.fence?.role))].filter((r): r is string => r !== undefined);
      throw new PartialCommitError(roles, [lapsed], new FencedError([lapsed], 'its lease lapsed while applying a batch'));
    }
    return this.inner.commit(changes);
  }
  claimFence: ReadStore['claimFence'] = (fence) => this.inner.claimFence(fence);
  ensureIndex = (c: string, f: string) => {
    if (this.failIndexOn === c) {
      this.failIndexOn = undefined;
      return Promise.reject(new Error('index build interrupted'));
    }
    return this.inner.ensureIndex(c, f);
  };
  listCollections = () => this.inner.listCollections();
  dropCollection = (n: string) => this.inner.dropCollection(n);
  scrub = () => this.inner.scrub();
  close = () => this.inner.close();
}
