import type { EventStore, FeedPage } from '@chronicle/event-store';
import { DocumentChange, PartialCommitError, ReadStore } from '@chronicle/read-store';
import type { Slot } from './slot';
import { UnitOfWork } from './unit-of-work';

export interface RunnerDeps {
  eventStore: EventStore;
  readStore: ReadStore;
  batchSize: number;
}

/**
 * Applies pages of the global feed to a set of slots and commits, per page, every read-model
 * change together with the slots' status documents (their checkpoints). A crash anywhere leaves
 * the read store at the last committed page: exactly-once effect.
 *
 * One page's commit may be under way while the next page is applied (the embedded store writes
 * large batches on a thread of its own, MongoDB over the network): `apply` returns once the page
 * is applied and its commit sent, after the previous page's commit is confirmed. A slot's
 * `checkpoint` moves only when its page is committed; `settle` waits for that.
 */
export class PageApplier {
  readonly uow: UnitOfWork;
  private inFlight?: Promise<void>;

  constructor(
    private readonly deps: RunnerDeps,
    public slots: Slot[],
    /** The status document to commit with a page, for a slot that advances to `checkpoint`. */
    private readonly statusChange: (slot: Slot, checkpoint: number) => DocumentChange,
    /** Called once a page is committed, with its checkpoint. */
    private readonly onCommitted: (checkpoint: number) => void = () => undefined,
    /**
     * Called when a page's commit failed (whoever settles it then rolls back): with no next page to
     * notice it (a quiet feed), the caller must read the feed again from the checkpoints itself.
     */
    private readonly onCommitFailed: (error: unknown) => void = () => undefined,
  ) {
    this.uow = new UnitOfWork(deps.readStore);
  }

  /** Position from which the slots need events: past everything applied, committed or not. */
  get position(): number {
    return this.slots.length ? Math.min(...this.slots.map((s) => s.applied)) : 0;
  }

  /** Applies a page and sends its commit; see the class comment. Returns how many applications it made. */
  async apply(page: FeedPage): Promise<number> {
    let applied = 0;
    let scrub = false;
    const slots = this.slots;
    try {
      for (const event of page.events) {
        for (const slot of slots) {
          if (slot.wants(event)) {
            const pending = slot.apply(event, this.uow);
            if (pending) await pending;
            applied += 1;
            scrub ||= slot.projection.scrubAfter?.includes(event.type) === true;
          }
        }
      }
      // Commits go out in page order, one at a time: the previous one first.
      await this.settle();
    } catch (error) {
      await this.abort();
      throw error;
    }
    const advanced = slots.filter((s) => s.applied < page.checkpoint);
    for (const slot of advanced) slot.applied = page.checkpoint;
    const changes = this.uow.takeChanges();
    if (changes.length === 0 && advanced.length === 0) return applied;
    const status = advanced.map((slot) => ({ ...this.statusChange(slot, page.checkpoint), fence: slot.fence }));
    if (slots.some((s) => s.fence)) {
      const fenceOf = new Map(slots.flatMap((s) => s.collections.map((c) => [c, s.fence] as const)));
      for (const change of changes) change.fence = fenceOf.get(change.collection);
    }
    const commit = async () => {
      try {
        await this.deps.readStore.commit([...changes, ...status]);
      } catch (error) {
        // The redo journal commits each role on its own: those committed have moved on.
        if (error instanceof PartialCommitError) for (const slot of advanced) if (slot.fence && error.committed.includes(slot.fence.role)) slot.checkpoint = page.checkpoint;
        throw error;
      }
      this.uow.committed();
      if (scrub) await this.deps.readStore.scrub();
      // Only a committed page moves the checkpoints.
      for (const slot of advanced) slot.checkpoint = page.checkpoint;
      this.onCommitted(page.checkpoint);
    };
    this.inFlight = commit();
    this.inFlight.catch((error: unknown) => this.onCommitFailed(error)); // and observed by settle
    return applied;
  }

  /**
   * For a slot that starts from position 0 on new collections: those found empty are marked fresh
   * in the unit of work, so the replay does not look up documents it has never written.
   */
  async markFresh(slot: Slot): Promise<void> {
    if (slot.checkpoint !== 0) return;
    for (const collection of slot.collections) {
      const [any] = await this.deps.readStore.collection(collection).find({}, { limit: 1 });
      if (!any) this.uow.markFresh(collection);
    }
  }

  /** Waits for the commit under way, if any; on its failure, forgets every uncommitted change and rethrows. */
  async settle(): Promise<void> {
    const inFlight = this.inFlight;
    if (!inFlight) return;
    try {
      await inFlight;
    } catch (error) {
      this.rollBack();
      throw error;
    } finally {
      if (this.inFlight === inFlight) this.inFlight = undefined;
    }
  }

  /**
   * Reads and applies pages from the slots' position until the end of the feed, all committed.
   * Ends early (committed too) once `stopped` says so.
   */
  async drain(onPage?: (page: FeedPage) => void, stopped: () => boolean = () => false): Promise<void> {
    for (;;) {
      if (stopped()) return this.settle();
      const page = await this.deps.eventStore.readAll({ fromPosition: this.position, maxCount: this.deps.batchSize });
      if (page.checkpoint > this.position) {
        await this.apply(page);
        onPage?.(page);
      }
      if (page.isEnd) return this.settle();
    }
  }

  /** After a failure while applying: let the commit under way finish (or fail), then drop the rest. */
  private async abort(): Promise<void> {
    await this.settle().catch(() => undefined);
    this.rollBack();
  }

  private rollBack(): void {
    this.uow.reset();
    for (const slot of this.slots) slot.applied = slot.checkpoint;
  }
}
