import type { EventStore, FeedPage } from '@chronicle/event-store';
import type { DocumentChange, ReadStore } from '@chronicle/read-store';
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
 */
export class PageApplier {
  readonly uow: UnitOfWork;

  constructor(
    private readonly deps: RunnerDeps,
    public slots: Slot[],
    /** Status documents to commit with a page, for the slots that advance to `checkpoint`. */
    private readonly statusChanges: (slots: Slot[], checkpoint: number) => DocumentChange[],
  ) {
    this.uow = new UnitOfWork(deps.readStore);
  }

  /** Position from which the slots need events. */
  get position(): number {
    return this.slots.length ? Math.min(...this.slots.map((s) => s.checkpoint)) : 0;
  }

  async apply(page: FeedPage): Promise<number> {
    let applied = 0;
    let scrub = false;
    try {
      for (const event of page.events) {
        for (const slot of this.slots) {
          if (slot.wants(event)) {
            await slot.apply(event, this.uow);
            applied += 1;
            scrub ||= slot.projection.scrubAfter?.includes(event.type) === true;
          }
        }
      }
      const advanced = this.slots.filter((s) => s.checkpoint < page.checkpoint);
      const changes = this.uow.takeChanges();
      if (changes.length > 0 || advanced.length > 0) {
        await this.deps.readStore.commit([...changes, ...this.statusChanges(advanced, page.checkpoint)]);
      }
      if (scrub) await this.deps.readStore.scrub();
      // Only a committed page moves the checkpoints.
      for (const slot of advanced) slot.checkpoint = page.checkpoint;
      return applied;
    } catch (error) {
      this.uow.reset();
      throw error;
    }
  }

  /** Reads and applies pages from the slots' position until the end of the feed. */
  async drain(onPage?: (page: FeedPage) => void): Promise<void> {
    for (;;) {
      const page = await this.deps.eventStore.readAll({ fromPosition: this.position, maxCount: this.deps.batchSize });
      if (page.checkpoint > this.position) {
        await this.apply(page);
        onPage?.(page);
      }
      if (page.isEnd) return;
    }
  }
}
