import type { RecordedEvent } from '@chronicle/event-store';
import { physicalName, Projection, ProjectionContext } from './projection';
import type { UnitOfWork } from './unit-of-work';

/** One projection bound to one generation of its collections, with its checkpoint. */
export class Slot {
  readonly physical: Record<string, string>;
  private readonly types?: Set<string>;
  private context?: ProjectionContext;
  private contextOf?: UnitOfWork;

  constructor(
    readonly projection: Projection,
    readonly generation: number,
    public checkpoint: number,
  ) {
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
    return event.globalPosition > this.checkpoint && (!this.types || this.types.has(event.type));
  }

  async apply(event: RecordedEvent, uow: UnitOfWork): Promise<void> {
    if (this.contextOf !== uow) {
      this.context = uow.context(this.physical);
      this.contextOf = uow;
    }
    await this.projection.apply(event, this.context!);
  }
}
