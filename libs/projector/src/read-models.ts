import type { EventStore } from '@chronicle/event-store';
import type { Document, ReadCollection, ReadStore } from '@chronicle/read-store';
import { physicalName } from './projection';
import type { Projector } from './projector';
import { HEARTBEAT_ID, liveId, ProjectorHeartbeat, requestId, SlotStatus, STATUS_COLLECTION } from './status';

export class ProjectionNotReadyError extends Error {
  constructor(readonly projection: string) {
    super(`projection "${projection}" is being built from the event history; try again shortly (GET /projections shows progress)`);
    this.name = 'ProjectionNotReadyError';
  }
}

export class ReadYourWritesTimeoutError extends Error {
  constructor(
    readonly position: number,
    readonly reached: number,
    readonly timeoutMs: number,
  ) {
    super(`read models have not reached position ${position} within ${timeoutMs} ms (they are at ${reached}); retry shortly`);
    this.name = 'ReadYourWritesTimeoutError';
  }
}

export interface ProjectionInfo {
  name: string;
  version: number;
  generation: number;
  checkpoint: number;
  lag: number;
  status: 'live' | 'building' | 'rebuilding' | 'stale';
  rebuild?: { generation: number; version: number; checkpoint: number; lag: number; startedAt?: string; eventsPerSecond?: number };
}

/**
 * The query side's view of the projector's work: which generation of a projection's collections
 * serves queries, how far each projection has got, and waiting for a position
 * (read-your-writes). Works in the projector's process and in a separate API process alike,
 * since everything is read from the read store's status documents.
 */
export class ReadModels {
  private cache?: { at: number; statuses: Map<string, SlotStatus> };

  constructor(
    private readonly readStore: ReadStore,
    private readonly eventStore: EventStore,
    private readonly projectionNames: string[],
    /** The in-process projector, when there is one: progress without polling. */
    private readonly projector?: Projector,
    private readonly cacheMs = 250,
  ) {
    projector?.on('progress', () => (this.cache = undefined));
    projector?.on('rebuild', () => (this.cache = undefined));
  }

  async collection<T extends Document>(projection: string, collection: string): Promise<ReadCollection<T>> {
    const status = (await this.statuses()).get(liveId(projection));
    if (!status || status.generation === 0) throw new ProjectionNotReadyError(projection);
    return this.readStore.collection<T>(physicalName(projection, collection, status.generation));
  }

  /** Waits until every live projection has applied the event at `position`. */
  async waitFor(position: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reached = await this.lowestCheckpoint(true);
      if (reached >= position) return;
      if (Date.now() >= deadline) throw new ReadYourWritesTimeoutError(position, reached, timeoutMs);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.projector?.off('progress', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(50, Math.max(1, deadline - Date.now())));
        this.projector?.on('progress', done);
      });
    }
  }

  async info(): Promise<ProjectionInfo[]> {
    const statuses = await this.statuses(true);
    const head = await this.eventStore.headPosition();
    return this.projectionNames.map((name) => {
      const live = statuses.get(liveId(name));
      const rebuild = statuses.get(`${name}~rebuild`);
      const info: ProjectionInfo = {
        name,
        version: live?.version ?? 0,
        generation: live?.generation ?? 0,
        checkpoint: live?.checkpoint ?? 0,
        lag: Math.max(0, head - (live?.checkpoint ?? 0)),
        status: !live ? 'building' : rebuild ? 'rebuilding' : 'live',
      };
      if (rebuild) {
        info.rebuild = {
          generation: rebuild.generation,
          version: rebuild.version,
          checkpoint: rebuild.checkpoint,
          lag: Math.max(0, head - rebuild.checkpoint),
          startedAt: rebuild.startedAt,
          eventsPerSecond: rebuild.eventsPerSecond,
        };
      }
      return info;
    });
  }

  /** Asks the projector (in this process or another) to rebuild a projection into a fresh generation. */
  async requestRebuild(projection: string, requestedBy: string): Promise<void> {
    if (this.projector?.works(projection)) {
      void this.projector.rebuild(projection, requestedBy).catch(() => undefined);
      return;
    }
    await this.readStore.collection(STATUS_COLLECTION).upsert({ _id: requestId(projection), projection, requestedAt: new Date().toISOString(), requestedBy });
  }

  /** Whether a projector process has shown a sign of life recently. */
  async projectorAlive(withinMs = 10_000): Promise<boolean> {
    if (this.projector) return true;
    const heartbeat = await this.readStore.collection<ProjectorHeartbeat>(STATUS_COLLECTION).findById(HEARTBEAT_ID);
    return !!heartbeat && Date.now() - Date.parse(heartbeat.updatedAt) < withinMs;
  }

  private async lowestCheckpoint(fresh: boolean): Promise<number> {
    // Only serving generations count: a projection still being built answers 503 anyway.
    let live: number[];
    // The in-process projector's own checkpoints, when it works every projection (no polling).
    if (this.projector && this.projectionNames.every((n) => this.projector!.works(n))) live = Object.values(this.projector.checkpoints());
    else {
      const statuses = await this.statuses(fresh);
      live = this.projectionNames.flatMap((n) => statuses.get(liveId(n))?.checkpoint ?? []);
    }
    return live.length ? Math.min(...live) : Number.MAX_SAFE_INTEGER;
  }

  private async statuses(fresh = false): Promise<Map<string, SlotStatus>> {
    if (!fresh && this.cache && Date.now() - this.cache.at < this.cacheMs) return this.cache.statuses;
    const docs = (await this.readStore.collection<SlotStatus>(STATUS_COLLECTION).find({ role: { $in: ['live', 'rebuild'] } })) as SlotStatus[];
    const statuses = new Map(docs.map((d) => [d._id, d]));
    this.cache = { at: Date.now(), statuses };
    return statuses;
  }
}
