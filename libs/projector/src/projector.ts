import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { EventStore } from '@chronicle/event-store';
import type { DocumentChange, ReadStore } from '@chronicle/read-store';
import { Lock } from './lock';
import { physicalName, Projection } from './projection';
import { PageApplier } from './runner';
import { Slot } from './slot';
import { HEARTBEAT_ID, liveId, RebuildRequest, rebuildId, requestId, SlotStatus, STATUS_COLLECTION } from './status';

export interface ProjectorOptions {
  batchSize?: number;
  /** How often rebuild requests from other processes are looked for. */
  requestPollMs?: number;
  heartbeatMs?: number;
  /** Delay before a replaced generation's collections are dropped (queries may still hold its name). */
  dropDelayMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface RebuildProgress {
  projection: string;
  generation: number;
  checkpoint: number;
  head: number;
  eventsPerSecond: number;
  done: boolean;
}

interface RebuildJob {
  slot: Slot;
  applier: PageApplier;
  startedAt: string;
  done: Promise<void>;
}

/**
 * Runs the projections over the event store's global feed. Live projections share one
 * subscription; a new projection, a new version or a requested rebuild is built into the next
 * generation of its collections by its own runner while the live generation keeps serving,
 * then swapped in under the lock once it has caught up, so no event appended meanwhile is lost.
 * Emits 'progress' (position) after each committed page and 'rebuild' (RebuildProgress).
 */
export class Projector extends EventEmitter {
  private readonly lock = new Lock();
  private readonly live: PageApplier;
  private readonly rebuilds = new Map<string, RebuildJob>();
  private readonly byName: Map<string, Projection>;
  private readonly timers: NodeJS.Timeout[] = [];
  private subscription?: { close(): Promise<void> };
  private liveLoop?: Promise<void>;
  private stopped = false;
  private readonly options: Required<ProjectorOptions>;

  constructor(
    private readonly eventStore: EventStore,
    private readonly readStore: ReadStore,
    readonly projections: Projection[],
    options: ProjectorOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.options = {
      // Pages of 20,000: a replay commits ~36,000 document changes per page, and larger pages
      // rewrite a hot document (a month's counters) fewer times; live pages are far smaller.
      batchSize: 20_000,
      requestPollMs: 1000,
      heartbeatMs: 2000,
      dropDelayMs: 5000,
      log: () => undefined,
      ...options,
    };
    this.byName = new Map(projections.map((p) => [p.name, p]));
    if (this.byName.size !== projections.length) throw new Error('projection names must be unique');
    this.live = new PageApplier(
      this.deps,
      [],
      (slots, checkpoint) => slots.map((s) => this.statusChange(s, 'live', checkpoint)),
      (checkpoint) => this.emit('progress', checkpoint),
    );
  }

  private get deps() {
    return { eventStore: this.eventStore, readStore: this.readStore, batchSize: this.options.batchSize };
  }

  /** Live checkpoints by projection. */
  checkpoints(): Record<string, number> {
    return Object.fromEntries(this.live.slots.map((s) => [s.name, s.checkpoint]));
  }

  async start(): Promise<void> {
    const statuses = await this.statuses();
    const fresh = this.projections.every((p) => !statuses.get(liveId(p.name)));
    const toBuild: Projection[] = [];
    for (const projection of this.projections) {
      const live = statuses.get(liveId(projection.name));
      if (fresh) this.live.slots.push(new Slot(projection, 1, 0));
      else if (live && live.version === projection.version) {
        this.live.slots.push(new Slot(projection, live.generation, live.checkpoint));
        // A rebuild that was under way when the process stopped resumes where it was.
        if (statuses.get(rebuildId(projection.name))?.version === projection.version) toBuild.push(projection);
      } else {
        if (live) this.live.slots.push(new Slot(projection, live.generation, live.checkpoint)); // the old version serves meanwhile
        toBuild.push(projection);
      }
    }
    for (const slot of this.live.slots) await this.ensureIndexes(slot);
    if (fresh) for (const slot of this.live.slots) await this.live.markFresh(slot);
    if (fresh) {
      // Status documents right away, so queries know the generation while the first pages apply.
      await this.readStore.commit(this.live.slots.map((s) => this.statusChange(s, 'live', 0)));
    }
    await this.collectGarbage(statuses);
    this.liveLoop = this.runLive();
    for (const projection of toBuild) void this.rebuild(projection.name, 'projector:start', { resume: true }).catch(() => undefined);
    this.timers.push(setInterval(() => void this.pollRequests().catch((e) => this.options.log('warn', `rebuild requests: ${e.message}`)), this.options.requestPollMs));
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), this.options.heartbeatMs));
    await this.heartbeat();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.subscription?.close();
    await this.liveLoop;
    await Promise.allSettled([...this.rebuilds.values()].map((job) => job.done));
  }

  /** Starts (or returns) the rebuild of one projection into a fresh generation. */
  rebuild(name: string, requestedBy: string, options: { resume?: boolean } = {}): Promise<void> {
    const running = this.rebuilds.get(name);
    if (running) return running.done;
    const projection = this.byName.get(name);
    if (!projection) return Promise.reject(new Error(`unknown projection "${name}"`));
    const job = {} as RebuildJob;
    job.done = this.runRebuild(projection, requestedBy, options.resume ?? false, job).finally(() => this.rebuilds.delete(name));
    this.rebuilds.set(name, job);
    return job.done;
  }

  isRebuilding(name: string): boolean {
    return this.rebuilds.has(name);
  }

  private async runLive(): Promise<void> {
    while (!this.stopped) {
      try {
        const from = this.live.slots.length ? this.live.position : await this.eventStore.headPosition();
        const subscription = this.eventStore.subscribeToAll({ fromPosition: from, maxBatch: this.options.batchSize });
        this.subscription = subscription;
        if (this.stopped) await subscription.close();
        // 'progress' is emitted as each page's commit is confirmed (see PageApplier).
        for await (const page of subscription) await this.lock.run(() => this.live.apply(page));
        await this.live.settle();
        return;
      } catch (error) {
        await this.live.settle().catch(() => undefined); // a failed commit rolls back to its checkpoints
        if (this.stopped) return;
        this.options.log('error', `live projections stopped at ${this.live.position}: ${(error as Error).message}; resuming`);
        await this.subscription?.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async runRebuild(projection: Projection, requestedBy: string, resume: boolean, job: RebuildJob): Promise<void> {
    const statuses = await this.statuses();
    const live = statuses.get(liveId(projection.name));
    const previous = statuses.get(rebuildId(projection.name));
    let slot: Slot;
    if (resume && previous && previous.version === projection.version) {
      slot = new Slot(projection, previous.generation, previous.checkpoint); // resume after a restart
    } else {
      if (previous) await this.drop(projection.name, previous.generation);
      slot = new Slot(projection, Math.max(live?.generation ?? 0, previous?.generation ?? 0) + 1, 0);
    }
    job.slot = slot;
    job.startedAt = previous?.startedAt && slot.checkpoint > 0 ? previous.startedAt : new Date().toISOString();
    await this.ensureIndexes(slot);
    let eventsPerSecond = 0;
    const started = Date.now();
    const startCheckpoint = slot.checkpoint;
    job.applier = new PageApplier(this.deps, [slot], (slots, checkpoint) =>
      slots.map((s) => ({ ...this.statusChange(s, 'rebuild', checkpoint), doc: { ...this.statusDoc(s, 'rebuild', checkpoint), startedAt: job.startedAt, eventsPerSecond } })),
    );
    await job.applier.markFresh(slot);
    this.options.log('info', `rebuilding ${projection.name} v${projection.version} into generation ${slot.generation} (requested by ${requestedBy})`);
    const report = async (done: boolean) => {
      const head = await this.eventStore.headPosition();
      const seconds = (Date.now() - started) / 1000;
      eventsPerSecond = seconds > 0 ? Math.round((slot.checkpoint - startCheckpoint) / seconds) : 0;
      this.emit('rebuild', { projection: projection.name, generation: slot.generation, checkpoint: slot.checkpoint, head, eventsPerSecond, done } satisfies RebuildProgress);
    };
    try {
      await job.applier.drain(() => void report(false));
      await this.lock.run(async () => {
        // Under the lock the live runner is paused (its last page committed): catch up the last
        // events, then swap.
        await this.live.settle();
        await job.applier.drain();
        const old = this.live.slots.find((s) => s.name === projection.name);
        await this.readStore.commit([
          this.statusChange(slot, 'live', slot.checkpoint),
          { collection: STATUS_COLLECTION, id: rebuildId(projection.name), doc: null },
        ]);
        this.live.slots = [...this.live.slots.filter((s) => s !== old), new Slot(projection, slot.generation, slot.checkpoint)];
        if (old) {
          this.live.uow.forget(old.collections);
          setTimeout(() => void this.drop(projection.name, old.generation).catch(() => undefined), this.options.dropDelayMs).unref();
        }
      });
      await report(true);
      this.options.log('info', `rebuilt ${projection.name}: generation ${slot.generation} is live at position ${slot.checkpoint}`);
    } catch (error) {
      this.options.log('error', `rebuild of ${projection.name} failed at ${slot.checkpoint}: ${(error as Error).message}`);
      throw error;
    }
  }

  private async pollRequests(): Promise<void> {
    const requests = (await this.readStore.collection<RebuildRequest>(STATUS_COLLECTION).find({ _id: { $regex: '~request$' } })) as RebuildRequest[];
    for (const request of requests) {
      await this.readStore.commit([{ collection: STATUS_COLLECTION, id: request._id, doc: null }]);
      if (this.byName.has(request.projection)) void this.rebuild(request.projection, request.requestedBy).catch(() => undefined);
    }
  }

  private async heartbeat(): Promise<void> {
    await this.readStore.collection(STATUS_COLLECTION).upsert({ _id: HEARTBEAT_ID, pid: process.pid, host: hostname(), updatedAt: new Date().toISOString() });
  }

  private async statuses(): Promise<Map<string, SlotStatus>> {
    const docs = (await this.readStore.collection<SlotStatus>(STATUS_COLLECTION).find({ role: { $in: ['live', 'rebuild'] } })) as SlotStatus[];
    return new Map(docs.map((d) => [d._id, d]));
  }

  private statusDoc(slot: Slot, role: 'live' | 'rebuild', checkpoint: number): SlotStatus {
    return {
      _id: role === 'live' ? liveId(slot.name) : rebuildId(slot.name),
      projection: slot.name,
      role,
      version: slot.projection.version,
      generation: slot.generation,
      checkpoint,
      updatedAt: new Date().toISOString(),
    };
  }

  private statusChange(slot: Slot, role: 'live' | 'rebuild', checkpoint: number): DocumentChange {
    const doc = this.statusDoc(slot, role, checkpoint);
    return { collection: STATUS_COLLECTION, id: doc._id, doc };
  }

  private async ensureIndexes(slot: Slot): Promise<void> {
    for (const [collection, fields] of Object.entries(slot.projection.indexes ?? {})) {
      for (const field of fields) await this.readStore.ensureIndex(slot.physical[collection], field);
    }
  }

  private async drop(projection: string, generation: number): Promise<void> {
    const p = this.byName.get(projection);
    for (const collection of p?.collections ?? []) await this.readStore.dropCollection(physicalName(projection, collection, generation));
  }

  /** Drops collections of generations no status refers to (left by a crash or a removed projection). */
  private async collectGarbage(statuses: Map<string, SlotStatus>): Promise<void> {
    const keep = new Set<string>([STATUS_COLLECTION]);
    for (const slot of this.live.slots) slot.collections.forEach((c) => keep.add(c));
    for (const status of statuses.values()) {
      const p = this.byName.get(status.projection);
      p?.collections.forEach((c) => keep.add(physicalName(p.name, c, status.generation)));
    }
    for (const name of await this.readStore.listCollections()) {
      if (/\.g\d+$/.test(name) && !keep.has(name)) await this.readStore.dropCollection(name);
    }
  }
}

