import { DEFAULT_FAILURE_RETRY, EventFailure, FailureRetryPolicy, nextFailure } from '@chronicle/cluster';
import type { EventStore, FeedPage } from '@chronicle/event-store';
import { DocumentChange, PartialCommitError, ReadStore } from '@chronicle/read-store';
import type { Slot } from './slot';
import { StoreReadError, UnitOfWork } from './unit-of-work';

export interface ApplierDeps {
  eventStore: EventStore;
  readStore: ReadStore;
  batchSize: number;
  /** Backoff between attempts at an event a projection throws on (default 1 s doubling to 5 min). */
  failureRetry?: FailureRetryPolicy;
}

/** What the owner of the applier hears of its slots' failures. */
export interface SlotFailureHooks {
  /** The slot's projection threw on an event: it has left `slots`, with its failure set. */
  failed?(slot: Slot): void;
  /** A slot got past the event it had failed on (its status is committed without the failure). */
  recovered?(slot: Slot, failure: EventFailure): void;
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
 *
 * A projection that throws on an event fails alone: its changes of the page are dropped, it leaves
 * `slots` at its last checkpoint with the failure set (committed with the page in its status
 * document), and the other slots go on past the event (`hooks.failed`; the owner retries it later).
 * A failure to read the store is no projection's fault: the whole page fails, as a failed commit does.
 */
export class PageApplier {
  readonly uow: UnitOfWork;
  private inFlight?: Promise<void>;

  constructor(
    private readonly deps: ApplierDeps,
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
    private readonly hooks: SlotFailureHooks = {},
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
    let slots = this.slots;
    const failed: Slot[] = [];
    /** Their failures before this page: a page that fails as a whole counts no attempt. */
    const before = new Map<Slot, EventFailure | undefined>();
    try {
      for (const event of page.events) {
        for (const slot of slots) {
          if (slot.wants(event)) {
            try {
              const pending = slot.apply(event, this.uow);
              if (pending) await pending;
            } catch (error) {
              if (error instanceof StoreReadError) throw error;
              // This projection stops here alone; the others go on with the page.
              before.set(slot, slot.failure);
              slot.failure = nextFailure(slot.failure, event, error, this.deps.failureRetry ?? DEFAULT_FAILURE_RETRY);
              this.uow.discard(slot.collections);
              failed.push(slot);
              slots = slots.filter((s) => s !== slot);
              continue;
            }
            applied += 1;
            scrub ||= slot.projection.scrubAfter?.includes(event.type) === true;
          }
        }
      }
      // Commits go out in page order, one at a time: the previous one first.
      await this.settle();
    } catch (error) {
      for (const [slot, failure] of before) slot.failure = failure;
      await this.abort();
      throw error;
    }
    if (failed.length > 0) {
      this.slots = this.slots.filter((s) => !failed.includes(s));
      for (const slot of failed) this.hooks.failed?.(slot);
    }
    const advanced = slots.filter((s) => s.applied < page.checkpoint);
    for (const slot of advanced) slot.applied = page.checkpoint;
    const recovered = advanced
      .filter((s) => s.failure !== undefined && page.checkpoint >= s.failure.position)
      .map((slot) => [slot, slot.failure!] as const);
    for (const [slot] of recovered) slot.failure = undefined;
    const changes = this.uow.takeChanges();
    if (changes.length === 0 && advanced.length === 0 && failed.length === 0) return applied;
    // A failed slot's status keeps its checkpoint (the end of its last page) and gains the failure.
    const status = [
      ...advanced.map((slot) => ({ ...this.statusChange(slot, page.checkpoint), fence: slot.fence })),
      ...failed.map((slot) => ({ ...this.statusChange(slot, slot.applied), fence: slot.fence })),
    ];
    if (slots.some((s) => s.fence)) {
      const fenceOf = new Map(slots.flatMap((s) => s.collections.map((c) => [c, s.fence] as const)));
      for (const change of changes) change.fence = fenceOf.get(change.collection);
    }
    const commit = async () => {
      try {
        await this.deps.readStore.commit([...changes, ...status]);
      } catch (error) {
        // The redo journal commits each role on its own: those committed have moved on.
        if (error instanceof PartialCommitError)
          for (const slot of advanced) if (slot.fence && error.committed.includes(slot.fence.role)) slot.checkpoint = page.checkpoint;
        throw error;
      }
      this.uow.committed();
      if (scrub) await this.deps.readStore.scrub();
      // Only a committed page moves the checkpoints.
      for (const slot of advanced) slot.checkpoint = page.checkpoint;
      for (const [slot, failure] of recovered) this.hooks.recovered?.(slot, failure);
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
      // No slot left: stopped, or its projection failed (the owner decides when to go on).
      if (stopped() || this.slots.length === 0) return this.settle();
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
