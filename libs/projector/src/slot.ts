import type { EventFailure, Fence, SkippedEvent } from '@chronicle/cluster';
import type { RecordedEvent } from '@chronicle/event-store';
import { physicalName, Projection, ProjectionContext } from './projection';
import type { UnitOfWork } from './unit-of-work';

/**
 * One projection bound to one generation of its collections, with its checkpoint (the position
 * committed) and the position applied, which runs ahead by the page whose commit is under way.
 */
export class Slot {
  readonly physical: Record<string, string>;
  /** Events up to here are applied (in the unit of work or committed). */
  applied: number;
  /** The event its projection threw on, until it gets past it (kept in its status document). */
  failure?: EventFailure;
  /** Events operators told it to pass over, every version's (kept in its status document). */
  skipped: SkippedEvent[] = [];
  private readonly types?: Set<string>;
  /** Ids of the skipped events that hold for this version: never applied. */
  private skips?: Set<string>;
  private context?: ProjectionContext;
  private contextOf?: UnitOfWork;

  constructor(
    readonly projection: Projection,
    readonly generation: number,
    public checkpoint: number,
    /** The projection's lease, when this process works it as a role of a cluster. */
    readonly fence?: Fence,
  ) {
    this.applied = checkpoint;
    this.physical = Object.fromEntries(projection.collections.map((c) => [c, physicalName(projection.name, c, generation)]));
    this.types = projection.eventTypes ? new Set(projection.eventTypes) : undefined;
  }

  get name(): string {
    return this.projection.name;
  }

  get collections(): string[] {
    return Object.values(this.physical);
  }

  /** Takes over what a status document says of failures and skips. */
  restore(status: { failure?: EventFailure; skipped?: SkippedEvent[] }): this {
    this.failure = status.failure;
    this.setSkipped(status.skipped ?? []);
    return this;
  }

  setSkipped(skipped: SkippedEvent[]): void {
    this.skipped = skipped;
    const ids = skipped.filter((s) => s.version === undefined || s.version === this.projection.version).map((s) => s.eventId);
    this.skips = ids.length > 0 ? new Set(ids) : undefined;
  }

  wants(event: RecordedEvent): boolean {
    return (
      event.globalPosition > this.applied &&
      (!this.types || this.types.has(event.type)) &&
      (this.skips === undefined || !this.skips.has(event.eventId))
    );
  }

  /** Not async: a replay makes millions of these calls, and each extra await costs. */
  apply(event: RecordedEvent, uow: UnitOfWork): void | Promise<void> {
    if (this.contextOf !== uow) {
      this.context = uow.context(this.physical);
      this.contextOf = uow;
    }
    return this.projection.apply(event, this.context!);
  }
}
