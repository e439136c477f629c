import type { Fence } from '@chronicle/cluster';
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
  private readonly types?: Set<string>;
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

  wants(event: RecordedEvent): boolean {
    return event.globalPosition > this.applied && (!this.types || this.types.has(event.type));
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
