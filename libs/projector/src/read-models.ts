import { randomUUID } from 'node:crypto';
import { checkFailureRequest, EventFailure, FailureRequestAction, SkippedEvent } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import type { Document, ReadCollection, ReadStore } from '@chronicle/read-store';
import { physicalName } from './projection';
import { projectionRole } from './projector';
import type { Projector } from './projector';
import {
  failureRequestId,
  FailureRequestDocument,
  HEARTBEAT_ID,
  liveId,
  ProjectorHeartbeat,
  rebuildId,
  requestId,
  SlotStatus,
  STATUS_COLLECTION,
} from './status';

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
  /** `failed`: the live generation, or the one a rebuild builds, is stopped on an event (see `failure`, `rebuild.failure`). */
  status: 'live' | 'building' | 'rebuilding' | 'failed';
  /** The event the live generation is stopped on. */
  failure?: EventFailure;
  /** Events operators told it to pass over, with who and why. */
  skipped?: SkippedEvent[];
  rebuild?: {
    generation: number;
    version: number;
    checkpoint: number;
    lag: number;
    startedAt?: string;
    eventsPerSecond?: number;
    failure?: EventFailure;
  };
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
    readonly projectionNames: string[],
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

  /**
   * Waits until every live projection has applied the event at `position`; a failed projection is
   * not waited for (it stays behind until retried or skipped: GET /projections says so).
   */
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
        status: live?.failure || rebuild?.failure ? 'failed' : !live ? 'building' : rebuild ? 'rebuilding' : 'live',
      };
      if (live?.failure) info.failure = live.failure;
      if (live?.skipped?.length) info.skipped = live.skipped;
      if (rebuild) {
        info.rebuild = {
          generation: rebuild.generation,
          version: rebuild.version,
          checkpoint: rebuild.checkpoint,
          lag: Math.max(0, head - rebuild.checkpoint),
          startedAt: rebuild.startedAt,
          eventsPerSecond: rebuild.eventsPerSecond,
        };
        if (rebuild.failure) info.rebuild.failure = rebuild.failure;
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
    await this.readStore
      .collection(STATUS_COLLECTION)
      .upsert({ _id: requestId(projection), projection, requestedAt: new Date().toISOString(), requestedBy });
  }

  /** The failures of the projections (live generation or rebuild), by projection: for /health and /metrics without the lag's reads. */
  async failures(): Promise<Map<string, EventFailure[]>> {
    const statuses = await this.statuses(true);
    const failed = new Map<string, EventFailure[]>();
    for (const name of this.projectionNames) {
      const found = [statuses.get(liveId(name))?.failure, statuses.get(rebuildId(name))?.failure].filter(
        (f): f is EventFailure => f !== undefined,
      );
      if (found.length > 0) failed.set(name, found);
    }
    return failed;
  }

  /**
   * Asks whichever process works a failed projection to attempt its event again now (`retry`), or to
   * pass over the event it is stopped on (`skip`, recorded with who and why). Throws
   * FailureRequestRefused when the projection is not stopped on any event, or on another one.
   */
  async requestFailureAction(
    projection: string,
    action: FailureRequestAction,
    requestedBy: string,
    skip?: { eventId: string; reason: string },
  ): Promise<void> {
    const statuses = await this.statuses(true);
    checkFailureRequest(
      projectionRole(projection),
      [statuses.get(liveId(projection))?.failure, statuses.get(rebuildId(projection))?.failure],
      action,
      skip?.eventId,
    );
    const request: FailureRequestDocument = {
      _id: failureRequestId(projection, action),
      id: randomUUID(),
      projection,
      action,
      requestedBy,
      requestedAt: new Date().toISOString(),
      ...(skip && { eventId: skip.eventId, reason: skip.reason }),
    };
    await this.readStore.collection<FailureRequestDocument>(STATUS_COLLECTION).upsert(request);
    if (this.projector?.works(projection)) void this.projector.takeRequests().catch(() => undefined);
  }

  /** Whether a projector process has shown a sign of life recently (and did not stop since). */
  async projectorAlive(withinMs = 10_000): Promise<boolean> {
    if (this.projector) return true;
    const heartbeat = await this.readStore.collection<ProjectorHeartbeat>(STATUS_COLLECTION).findById(HEARTBEAT_ID);
    return !!heartbeat && !heartbeat.stoppedAt && Date.now() - Date.parse(heartbeat.updatedAt) < withinMs;
  }

  /** When the last projector to beat stopped cleanly (undefined: it did not, or none ever ran). */
  async projectorStoppedAt(): Promise<number | undefined> {
    const heartbeat = await this.readStore.collection<ProjectorHeartbeat>(STATUS_COLLECTION).findById(HEARTBEAT_ID);
    return heartbeat?.stoppedAt ? Date.parse(heartbeat.stoppedAt) : undefined;
  }

  /** Takes back a rebuild request no projector picked up (so no later start runs it unasked). */
  async withdrawRebuildRequest(projection: string): Promise<void> {
    await this.readStore.collection(STATUS_COLLECTION).deleteMany({ _id: requestId(projection) });
  }

  private async lowestCheckpoint(fresh: boolean): Promise<number> {
    // Only serving generations count: a projection still being built answers 503 anyway.
    let live: number[];
    // The in-process projector's own checkpoints, when it works every projection (no polling).
    if (this.projector && this.projectionNames.every((n) => this.projector!.works(n))) live = Object.values(this.projector.checkpoints());
    else {
      const statuses = await this.statuses(fresh);
      live = this.projectionNames.flatMap((n) => {
        const status = statuses.get(liveId(n));
        return status && !status.failure ? [status.checkpoint] : [];
      });
    }
    return live.length ? Math.min(...live) : Number.MAX_SAFE_INTEGER;
  }

  private async statuses(fresh = false): Promise<Map<string, SlotStatus>> {
    if (!fresh && this.cache && Date.now() - this.cache.at < this.cacheMs) return this.cache.statuses;
    const docs = await this.readStore.collection<SlotStatus>(STATUS_COLLECTION).find({ role: { $in: ['live', 'rebuild'] } });
    const statuses = new Map(docs.map((d) => [d._id, d]));
    this.cache = { at: Date.now(), statuses };
    return statuses;
  }
}
