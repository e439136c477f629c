import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { EventFailure, FailureRetryPolicy, Fence, RoleRunner, SkippedEvent } from '@chronicle/cluster';
import { DEFAULT_FAILURE_RETRY, FencedError, isFencedError, skipOf } from '@chronicle/cluster';
import { CatchUpConsumer, EventStore } from '@chronicle/event-store';
import { DocumentChange, PartialCommitError, ReadStore } from '@chronicle/read-store';
import { Lock } from './lock';
import { physicalName, Projection } from './projection';
import { PageApplier } from './page-applier';
import { Slot } from './slot';
import {
  FailureRequestDocument,
  HEARTBEAT_ID,
  ProjectorHeartbeat,
  liveId,
  RebuildRequest,
  rebuildId,
  requestId,
  SlotStatus,
  STATUS_COLLECTION,
} from './status';

export interface ProjectorOptions {
  batchSize?: number;
  /** How often rebuild requests from other processes are looked for. */
  requestPollMs?: number;
  heartbeatMs?: number;
  /** Delay before a replaced generation's collections are dropped (queries may still hold its name). */
  dropDelayMs?: number;
  /** No live page for this long while the feed's head is ahead: warn and read the feed again (default 60 s). */
  stallAfterMs?: number;
  /** Backoff between attempts at an event a projection throws on (default 1 s doubling to 5 min). */
  failureRetry?: FailureRetryPolicy;
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

/** Emitted as 'failed' (each failed attempt) and 'recovered' (got past the event). */
export interface ProjectionFailureEvent {
  projection: string;
  /** The generation: the live one, or the one a rebuild builds. */
  role: 'live' | 'rebuild';
  generation: number;
  failure: EventFailure;
}

/** A generation stopped on an event, waiting for its next attempt (or an operator's retry or skip). */
interface Parked {
  slot: Slot;
  role: 'live' | 'rebuild';
  /** Its status document as it stands (committed again with a skip). */
  status(): DocumentChange;
  timer?: NodeJS.Timeout;
  /** Attempts the event again now. */
  resume(): void;
  /** Stops waiting without an attempt (the role left, or the projector stops). */
  cancel(): void;
}

interface RebuildJob {
  slot: Slot;
  applier: PageApplier;
  startedAt: string;
  done: Promise<void>;
  /** Set when the projection's role leaves this process: the rebuild stops after its page. */
  stopped: boolean;
}

/** Pages wait while a projection's lease is not valid (until it is renewed, or the projection leaves). */
class LeaseLapsedError extends Error {
  constructor(roles: string[]) {
    super(`waiting for the lease of ${roles.join(', ')} to be renewed`);
    this.name = 'LeaseLapsedError';
  }
}

/** The role (lease) of a projection in a cluster. */
export const projectionRole = (name: string): string => `projection:${name}`;
export const projectionOfRole = (role: string): string | undefined =>
  role.startsWith('projection:') ? role.slice('projection:'.length) : undefined;

/**
 * Runs projections over the event store's global feed. The projections this process works ("joined":
 * all of them when it runs alone, those whose role it holds in a cluster) share one catch-up
 * consumer; a new projection, a new version or a requested rebuild is built into the next
 * generation of its collections by its own page applier while the live generation keeps serving, then
 * swapped in under the lock once it has caught up, so no event appended meanwhile is lost.
 * In a cluster every commit of a projection carries its lease's fence (see PageApplier).
 *
 * A projection that throws on an event stops there alone (PageApplier): its generation is parked
 * with the failure in its status document and attempted again after a backoff, at once on an
 * operator's retry, or past the event once an operator skipped it (`<name>~retry`, `<name>~skip`
 * requests, taken by whichever process works the projection). The others go on.
 * Emits 'progress' (position) after each committed page, 'rebuild' (RebuildProgress), and
 * 'failed' / 'recovered' (ProjectionFailureEvent).
 */
export class Projector extends EventEmitter {
  private readonly lock = new Lock();
  /** Starts and stops of the live consumer, one at a time (never under `lock`: its pages take that). */
  private readonly consumerLock = new Lock();
  private readonly live: PageApplier;
  /**
   * Slots that joined behind the live ones: they enter the live applier when the consumer next
   * subscribes (from the lowest position), never in the middle of a page read for the others.
   */
  private joining: Slot[] = [];
  private readonly consumer: CatchUpConsumer;
  private readonly rebuilds = new Map<string, RebuildJob>();
  private readonly byName: Map<string, Projection>;
  /** Joined projections and their fences (undefined when running alone). */
  private readonly joined = new Map<string, Fence | undefined>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Generations stopped on an event (live ones are out of the consumer meanwhile). */
  private readonly parked = new Set<Parked>();
  /** Requests are taken one poll at a time (the timer's, or one asked for by ReadModels). */
  private readonly requestLock = new Lock();
  private onLost?: (role: string, reason: string) => void;
  /** Failed commits whose lost roles were given up already. */
  private readonly reported = new WeakSet<object>();
  private started = false;
  private starting = false;
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
      stallAfterMs: 60_000,
      failureRetry: DEFAULT_FAILURE_RETRY,
      log: () => undefined,
      ...options,
    };
    this.byName = new Map(projections.map((p) => [p.name, p]));
    if (this.byName.size !== projections.length) throw new Error('projection names must be unique');
    this.live = new PageApplier(
      this.deps,
      [],
      (slot, checkpoint) => this.statusChange(slot, 'live', checkpoint),
      (checkpoint) => this.emit('progress', checkpoint),
      // Read the feed again from the committed checkpoints (checkpoint() settles, rolling back).
      // A role the failed commit found lost is given up now: with no page after it (a quiet feed)
      // nothing else would notice, and its slot may count a batch as committed that only the
      // role's next claim applies.
      (error) => {
        this.reportLost(error);
        this.consumer.restart();
      },
      {
        failed: (slot) => {
          this.reportFailure(slot, 'live');
          this.parkLive(slot);
        },
        recovered: (slot, failure) => this.reportRecovery(slot, 'live', failure),
      },
    );
    this.consumer = new CatchUpConsumer({
      name: 'live projections',
      store: eventStore,
      batchSize: this.options.batchSize,
      checkpoint: () =>
        this.lock.run(async () => {
          // A failed commit under way rolls the slots back to their committed checkpoints.
          await this.live.settle().catch(() => undefined);
          this.live.slots = [...this.live.slots, ...this.joining.splice(0)];
          return this.live.position;
        }),
      // 'progress' is emitted as each page's commit is confirmed (see PageApplier).
      handle: (page) =>
        this.lock.run(async () => {
          // A commit that failed while this page waited for the lock rolled the slots back behind
          // it (and asked for a restart): applied now, it would skip the events in between.
          if (this.consumer.restartPending) return;
          // A lease that lapsed is either renewed or stopped by the coordinator within a poll:
          // wait for that rather than apply pages without the projection (it would fall behind).
          const lapsed = this.live.slots.filter((s) => s.fence && !s.fence.valid()).map((s) => s.fence!.role);
          if (lapsed.length > 0) throw new LeaseLapsedError(lapsed);
          await this.live.apply(page);
        }),
      // A failed commit rolls back to the committed checkpoints; the page in flight settles first.
      reset: () => this.live.settle().catch(() => undefined),
      onFailure: (error) => this.liveFailed(error),
      retry: { initialMs: 1000, maxMs: 5000 },
      stallAfterMs: this.options.stallAfterMs,
      log: (level, message) => this.options.log(level === 'debug' ? 'info' : level, message),
    });
  }

  private get deps() {
    return {
      eventStore: this.eventStore,
      readStore: this.readStore,
      batchSize: this.options.batchSize,
      failureRetry: this.options.failureRetry,
    };
  }

  /**
   * Live checkpoints by projection (the projections this process works), but for failed ones: they
   * stay behind until retried or skipped, and read-your-writes does not wait for them.
   */
  checkpoints(): Record<string, number> {
    return Object.fromEntries([...this.live.slots, ...this.joining].filter((s) => !s.failure).map((s) => [s.name, s.checkpoint]));
  }

  /** Whether this process works the projection (all of them when it runs alone). */
  works(name: string): boolean {
    return this.joined.has(name);
  }

  /** Runs alone: every projection, no leases (tests, the CLI, a single process without a cluster). */
  async start(): Promise<void> {
    await this.collectOrphans();
    await this.startShared();
    const statuses = await this.statuses();
    if (![...statuses.values()].some((s) => s.role === 'live')) {
      // A fresh store: every projection starts live at generation 1, their statuses in one commit
      // (a crash leaves all or none, so a restart never mistakes some of them for new projections).
      await this.readStore.commit(this.projections.map((p) => this.statusChange(new Slot(p, 1, 0), 'live', 0)));
    }
    // The consumer starts once every projection has joined: one subscription for all of them.
    this.starting = true;
    try {
      for (const projection of this.projections) await this.join(projection.name);
    } finally {
      this.starting = false;
    }
    await this.syncConsumer();
  }

  /**
   * Runs as part of a cluster: each projection is a role, joined and left by its RoleRunner
   * (`runner(name)`) as this process gains and loses the role's lease. `lost` is told when a commit
   * finds a role taken over.
   */
  async startCoordinated(lost: (role: string, reason: string) => void): Promise<void> {
    this.onLost = lost;
    await this.startShared();
  }

  /** The RoleRunner of a projection's role. */
  runner(name: string): RoleRunner {
    if (!this.byName.has(name)) throw new Error(`unknown projection "${name}"`);
    return { start: (lease) => this.join(name, lease), stop: () => this.leave(name) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const job of this.rebuilds.values()) job.stopped = true;
    for (const parked of [...this.parked]) parked.cancel();
    await this.consumerLock.run(() => this.consumer.stop());
    await this.lock.run(() => this.settleLive());
    await Promise.allSettled([...this.rebuilds.values()].map((job) => job.done));
    if (this.started) await this.markStopped().catch(() => undefined);
  }

  /**
   * A clean stop says so in the heartbeat (when the last beat was this process's): the CLI then
   * rebuilds in-process at once instead of asking a projector that is gone. Another running
   * projector writes its own beat over it within `heartbeatMs`.
   */
  private async markStopped(): Promise<void> {
    const status = this.readStore.collection<ProjectorHeartbeat>(STATUS_COLLECTION);
    const beat = await status.findById(HEARTBEAT_ID);
    if (beat?.pid !== process.pid || beat.host !== hostname()) return;
    await status.upsert({ ...beat, stoppedAt: new Date().toISOString() });
  }

  /** Starts (or returns) the rebuild of one projection into a fresh generation. */
  rebuild(name: string, requestedBy: string, options: { resume?: boolean } = {}): Promise<void> {
    const running = this.rebuilds.get(name);
    if (running) return running.done;
    const projection = this.byName.get(name);
    if (!projection) return Promise.reject(new Error(`unknown projection "${name}"`));
    if (!this.joined.has(name)) return Promise.reject(new Error(`projection "${name}" is worked by another process`));
    const job = { stopped: false } as RebuildJob;
    job.done = this.runRebuild(projection, requestedBy, options.resume ?? false, job, this.joined.get(name)).finally(() =>
      this.rebuilds.delete(name),
    );
    this.rebuilds.set(name, job);
    return job.done;
  }

  isRebuilding(name: string): boolean {
    return this.rebuilds.has(name);
  }

  private async startShared(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.timers.push(
      setInterval(
        () => void this.takeRequests().catch((e) => this.options.log('warn', `projection requests: ${e.message}`)),
        this.options.requestPollMs,
      ),
    );
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), this.options.heartbeatMs));
    await this.heartbeat();
  }

  /**
   * Starts working a projection: claims its fence (nothing its previous holder might still write
   * lands after that), reads its status, and joins the live consumer, starts or resumes its
   * rebuild, or both.
   */
  private async join(name: string, fence?: Fence): Promise<void> {
    const projection = this.byName.get(name)!;
    if (fence) await this.readStore.claimFence(fence);
    const statuses = await this.statuses();
    // A projection without a status joins the others live from 0 when they are all still within
    // their first page (a store starting up, several processes at once); otherwise it is built
    // apart while they serve, and swapped in once it has caught up.
    const fresh = [...statuses.values()].filter((s) => s.role === 'live').every((s) => s.checkpoint <= this.options.batchSize);
    const live = statuses.get(liveId(name));
    const previous = statuses.get(rebuildId(name));
    if (live && live.version > projection.version) {
      throw new Error(
        `${name}: version ${live.version} is live and this process runs version ${projection.version}; left to processes running the newer version`,
      );
    }
    if (fence) await this.collectGarbage(name, [live?.generation, previous?.generation], fence);
    let slot: Slot | undefined;
    let build = false;
    let resume = false;
    if (live) {
      // With the failure and skips its previous holder left: they hold here too.
      slot = new Slot(projection, live.generation, live.checkpoint, fence).restore(live);
      // A new version is rebuilt while the old generation serves; a rebuild under way resumes.
      build = live.version !== projection.version || previous?.version === projection.version;
      resume = previous?.version === projection.version;
    } else if (fresh) {
      slot = new Slot(projection, 1, 0, fence);
    } else {
      build = true; // a new projection beside existing ones: built, then swapped in (503 until then)
      resume = previous?.version === projection.version;
    }
    this.joined.set(name, fence);
    if (slot) {
      await this.ensureIndexes(slot);
      await this.lock.run(async () => {
        await this.settleLive();
        // Nothing cached from an earlier tenure holds: others have written these collections since
        // (a stale "fresh" mark would have lookups skip documents that are there).
        this.live.uow.forget(slot.collections);
        if (slot.checkpoint === 0) await this.live.markFresh(slot);
        // Status document right away, so queries know the generation while the first pages apply.
        if (!live) await this.readStore.commit([{ ...this.statusChange(slot, 'live', 0), fence }]);
        // A page read for the others may start after this slot's checkpoint: a slot behind them joins
        // at the next subscription, which starts from its checkpoint. A slot stopped on an event
        // waits for its next attempt first, as it would have with its previous holder.
        if (slot.failure && Date.parse(slot.failure.nextRetryAt) > Date.now()) this.parkLive(slot);
        else if (this.live.slots.length > 0 && slot.checkpoint >= this.live.position) this.live.slots = [...this.live.slots, slot];
        else {
          this.joining.push(slot);
          this.consumer.restart();
        }
      });
      await this.syncConsumer();
    }
    if (build) void this.rebuild(name, 'projector:start', { resume }).catch(() => undefined);
  }

  /** Stops working a projection (its role left this process): nothing more is written for it. */
  private async leave(name: string): Promise<void> {
    if (!this.joined.has(name)) return;
    this.joined.delete(name);
    const job = this.rebuilds.get(name);
    if (job) job.stopped = true;
    for (const parked of [...this.parked]) if (parked.slot.name === name) parked.cancel();
    if (job) await job.done.catch(() => undefined);
    await this.lock.run(async () => {
      await this.settleLive();
      const slot = [...this.live.slots, ...this.joining].find((s) => s.name === name);
      this.joining = this.joining.filter((s) => s.name !== name);
      if (!slot) return;
      this.live.slots = this.live.slots.filter((s) => s !== slot);
      this.live.uow.forget(slot.collections);
    });
    await this.syncConsumer();
  }

  /** The live consumer runs while there are live slots. */
  private syncConsumer(): Promise<void> {
    return this.consumerLock.run(async () => {
      if (this.stopped || this.starting) return;
      const slots = this.live.slots.length + this.joining.length;
      if (slots > 0 && !this.consumer.running) this.consumer.start();
      else if (slots === 0 && this.consumer.running) await this.consumer.stop();
    });
  }

  /**
   * Waits for the live commit under way. If it failed, the slots rolled back to their committed
   * checkpoints: the consumer reads the feed again from there.
   */
  private async settleLive(): Promise<void> {
    try {
      await this.live.settle();
    } catch {
      this.consumer.restart();
    }
  }

  /** What the live consumer does after a failure: a role taken over leaves, the rest go on at once. */
  private liveFailed(error: unknown): 'retry' | 'restart' {
    if (error instanceof LeaseLapsedError) return 'retry';
    const lost = this.reportLost(error);
    if (lost.length === 0) {
      if (error instanceof PartialCommitError) this.options.log('warn', `live projections: ${error.message}`);
      return 'retry';
    }
    // The lost slots' leases ended: pages wait (LeaseLapsedError) until leave() has removed them.
    return this.onLost ? 'restart' : 'retry';
  }

  /**
   * Gives up the roles a failed live commit was refused for (taken over, or lapsed while its batch
   * was applied: then only the role's next claim applies it), once per failure, whichever of the
   * commit's own handler and the consumer hears of it first. Returns those roles.
   */
  private reportLost(error: unknown): string[] {
    const lost = isFencedError(error) ? error.roles : error instanceof PartialCommitError ? error.fenced : [];
    if (lost.length === 0 || this.reported.has(error as object)) return lost;
    this.reported.add(error as object);
    this.options.log('warn', `${lost.join(', ')}: a commit was refused by its fence (${(error as Error).message}); given up`);
    for (const role of lost) this.onLost?.(role, 'a commit was refused by its fence');
    return lost;
  }

  private async runRebuild(
    projection: Projection,
    requestedBy: string,
    resume: boolean,
    job: RebuildJob,
    fence: Fence | undefined,
  ): Promise<void> {
    const stopped = () => job.stopped || this.stopped;
    // Setup included: a projection held with nothing built is served by nobody (see the catch).
    try {
      const statuses = await this.statuses();
      const live = statuses.get(liveId(projection.name));
      const previous = statuses.get(rebuildId(projection.name));
      let slot: Slot;
      if (resume && previous && previous.version === projection.version) {
        slot = new Slot(projection, previous.generation, previous.checkpoint, fence).restore(previous); // resume after a restart
      } else {
        if (previous) await this.drop(projection.name, previous.generation, fence);
        slot = new Slot(projection, Math.max(live?.generation ?? 0, previous?.generation ?? 0) + 1, 0, fence);
      }
      // The live generation's skips hold for its rebuild too (those of this version are not applied),
      // so that a rebuild does not stop where the live generation was told to go on.
      slot.setSkipped(mergeSkipped(slot.skipped, live?.skipped ?? []));
      job.slot = slot;
      job.startedAt = previous?.startedAt && slot.checkpoint > 0 ? previous.startedAt : new Date().toISOString();
      await this.ensureIndexes(slot);
      let eventsPerSecond = 0;
      const started = Date.now();
      const startCheckpoint = slot.checkpoint;
      const rebuildStatus = (s: Slot, checkpoint: number): DocumentChange => ({
        ...this.statusChange(s, 'rebuild', checkpoint),
        doc: { ...this.statusDoc(s, 'rebuild', checkpoint), startedAt: job.startedAt, eventsPerSecond },
      });
      job.applier = new PageApplier(this.deps, [slot], rebuildStatus, undefined, undefined, {
        failed: (s) => this.reportFailure(s, 'rebuild'),
        recovered: (s, failure) => this.reportRecovery(s, 'rebuild', failure),
      });
      await job.applier.markFresh(slot);
      this.options.log(
        'info',
        `rebuilding ${projection.name} v${projection.version} into generation ${slot.generation} (requested by ${requestedBy})`,
      );
      const report = async (done: boolean) => {
        const head = await this.eventStore.headPosition();
        const seconds = (Date.now() - started) / 1000;
        eventsPerSecond = seconds > 0 ? Math.round((slot.checkpoint - startCheckpoint) / seconds) : 0;
        this.emit('rebuild', {
          projection: projection.name,
          generation: slot.generation,
          checkpoint: slot.checkpoint,
          head,
          eventsPerSecond,
          done,
        } satisfies RebuildProgress);
      };
      for (;;) {
        // Stopped on an event (here, or by the process that worked the rebuild before): wait for the
        // next attempt, an operator's retry or skip, or the end of the job.
        if (slot.failure && Date.parse(slot.failure.nextRetryAt) > Date.now() && !stopped())
          await this.waitForAttempt(slot, () => rebuildStatus(slot, slot.checkpoint));
        if (stopped()) {
          this.options.log(
            'info',
            `rebuild of ${projection.name} stopped at ${slot.checkpoint}; it resumes there when the projection is worked again`,
          );
          return;
        }
        slot.applied = slot.checkpoint;
        job.applier.slots = [slot];
        await job.applier.drain(() => void report(false), stopped);
        // The projection failed when the applier has no slot left: wait, then go on from its checkpoint.
        if (stopped() || job.applier.slots.length === 0) continue;
        const swappedIn = await this.lock.run(async () => {
          // Under the lock the live applier is paused (its last page committed): catch up the last
          // events, then swap.
          await this.settleLive();
          await job.applier.drain();
          if (job.applier.slots.length === 0) return false; // failed on one of the last events
          const parkedLive = [...this.parked].find((p) => p.role === 'live' && p.slot.name === projection.name);
          const old =
            this.live.slots.find((s) => s.name === projection.name) ??
            this.joining.find((s) => s.name === projection.name) ??
            parkedLive?.slot;
          this.joining = this.joining.filter((s) => s !== old);
          await this.readStore.commit([
            { ...this.statusChange(slot, 'live', slot.checkpoint), fence },
            { collection: STATUS_COLLECTION, id: rebuildId(projection.name), doc: null, fence },
          ]);
          // A live generation stopped on an event is replaced along with its failure.
          parkedLive?.cancel();
          const swapped = new Slot(projection, slot.generation, slot.checkpoint, fence);
          swapped.setSkipped(slot.skipped);
          this.live.slots = [...this.live.slots.filter((s) => s !== old), swapped];
          if (old) {
            this.live.uow.forget(old.collections);
            setTimeout(
              () => void this.drop(projection.name, old.generation, fence).catch(() => undefined),
              this.options.dropDelayMs,
            ).unref();
          }
          return true;
        });
        if (swappedIn) break;
      }
      await this.syncConsumer();
      await report(true);
      this.options.log('info', `rebuilt ${projection.name}: generation ${slot.generation} is live at position ${slot.checkpoint}`);
    } catch (error) {
      this.options.log('error', `rebuild of ${projection.name} failed at ${job.slot?.checkpoint ?? 0}: ${(error as Error).message}`);
      // The role is given up and taken anew (here or elsewhere), so the rebuild goes on from its
      // checkpoint rather than stay dead while its lease is renewed.
      if (fence && !stopped())
        this.onLost?.(
          fence.role,
          isFencedError(error) ? 'a rebuild commit was refused by its fence' : `its rebuild failed: ${(error as Error).message}`,
        );
      throw error;
    }
  }

  /**
   * Takes the rebuild, retry and skip requests of the projections this process works. Polled; also
   * called at once by ReadModels in this process, so a request sent here is taken without the wait.
   */
  takeRequests(): Promise<void> {
    return this.requestLock.run(() => this.pollRequests());
  }

  private async pollRequests(): Promise<void> {
    const requests = await this.readStore
      .collection<RebuildRequest | FailureRequestDocument>(STATUS_COLLECTION)
      .find({ _id: { $regex: '~(request|retry|skip)$' } });
    for (const request of requests) {
      // Only the process that works the projection takes its request.
      if (!this.joined.has(request.projection)) continue;
      if (request._id !== requestId(request.projection)) {
        await this.takeFailureRequest(request as FailureRequestDocument);
        continue;
      }
      await this.readStore.commit([{ collection: STATUS_COLLECTION, id: request._id, doc: null }]);
      void this.rebuild(request.projection, request.requestedBy).catch(() => undefined);
    }
  }

  /**
   * A retry attempts the event now; a skip of the event a generation is stopped on is recorded in its
   * status document (who, why) before it goes on past it. Both are for generations waiting for their
   * next attempt: while an attempt is under way a skip waits for its outcome (it may get past the
   * event, or stop on it again). A request that no longer applies is dropped.
   */
  private async takeFailureRequest(request: FailureRequestDocument): Promise<void> {
    const name = request.projection;
    const parked = [...this.parked].filter((p) => p.slot.name === name);
    const failing = [...this.live.slots, ...this.joining, ...parked.map((p) => p.slot), this.rebuilds.get(name)?.slot].filter(
      (s): s is Slot => s?.name === name && s.failure !== undefined,
    );
    const done = () => this.readStore.commit([{ collection: STATUS_COLLECTION, id: request._id, doc: null }]);
    if (request.action === 'retry') {
      if (parked.length > 0)
        this.options.log(
          'info',
          `${name}: retry of ${parked.map((p) => p.slot.failure?.eventId).join(', ')} requested by ${request.requestedBy}`,
        );
      else if (failing.length === 0)
        this.options.log('warn', `${name}: retry requested by ${request.requestedBy} dropped: not stopped on any event`);
      for (const p of parked) p.resume();
      return done();
    }
    const targets = parked.filter((p) => p.slot.failure?.eventId === request.eventId);
    if (targets.length === 0) {
      if (failing.some((s) => s.failure!.eventId === request.eventId)) return; // an attempt is under way
      this.options.log(
        'warn',
        `${name}: skip of ${request.eventId} requested by ${request.requestedBy} dropped: it is not stopped on that event`,
      );
      return done();
    }
    for (const p of targets) {
      const { slot } = p;
      const failure = slot.failure!;
      const before = slot.skipped;
      slot.setSkipped([...before, skipOf(failure, request, slot.projection.version)]);
      try {
        // Durable before it goes on: whoever works the projection next honours the skip too.
        await this.lock.run(async () => {
          await this.settleLive();
          await this.readStore.commit([{ ...p.status(), fence: slot.fence }]);
        });
      } catch (error) {
        slot.setSkipped(before);
        throw error;
      }
      this.options.log(
        'warn',
        `${name}: skipping ${failure.eventType} ${failure.eventId} at position ${failure.position} (${p.role} generation ${slot.generation}), as ${request.requestedBy} asked: ${request.reason}`,
      );
      p.resume();
    }
    return done();
  }

  /** Logs a failed attempt and tells the listeners. */
  private reportFailure(slot: Slot, role: 'live' | 'rebuild'): void {
    const f = slot.failure!;
    this.options.log(
      f.attempts % 10 === 1 ? 'error' : 'warn',
      `${slot.name} (${role} generation ${slot.generation}) failed on ${f.eventType} ${f.eventId} at position ${f.position} (attempt ${f.attempts}): ${f.error}; ` +
        `the other projections go on; next attempt at ${f.nextRetryAt} (or POST /projections/${slot.name}/retry, /skip)`,
    );
    this.emit('failed', { projection: slot.name, role, generation: slot.generation, failure: f } satisfies ProjectionFailureEvent);
  }

  private reportRecovery(slot: Slot, role: 'live' | 'rebuild', failure: EventFailure): void {
    this.options.log(
      'info',
      `${slot.name} (${role} generation ${slot.generation}) got past ${failure.eventType} ${failure.eventId} after ${failure.attempts} failed attempt(s)`,
    );
    this.emit('recovered', { projection: slot.name, role, generation: slot.generation, failure } satisfies ProjectionFailureEvent);
  }

  /** Leaves a live generation out of the consumer until its next attempt (or an operator's request). */
  private parkLive(slot: Slot): void {
    const parked: Parked = {
      slot,
      role: 'live',
      status: () => this.statusChange(slot, 'live', slot.checkpoint),
      resume: () =>
        void this.resumeLive(parked).catch((e) =>
          this.options.log('warn', `${slot.name}: resuming after a failure: ${(e as Error).message}`),
        ),
      cancel: () => this.unpark(parked),
    };
    this.park(parked);
    // With no slot left the consumer would read the feed for nobody (not awaited: a page may be under way).
    if (this.live.slots.length + this.joining.length === 0) void this.syncConsumer();
  }

  /** Back into the consumer: it reads the feed again from this slot's checkpoint (the others skip what they have). */
  private async resumeLive(parked: Parked): Promise<void> {
    await this.lock.run(async () => {
      if (!this.parked.has(parked)) return; // cancelled, or resumed already
      this.unpark(parked);
      const { slot } = parked;
      if (this.stopped || !this.joined.has(slot.name)) return;
      await this.settleLive();
      slot.applied = slot.checkpoint;
      this.joining.push(slot);
      this.consumer.restart();
    });
    await this.syncConsumer();
  }

  /** A rebuild stopped on an event waits here. */
  private waitForAttempt(slot: Slot, status: () => DocumentChange): Promise<void> {
    return new Promise<void>((resolve) => {
      const parked: Parked = {
        slot,
        role: 'rebuild',
        status,
        resume: () => {
          this.unpark(parked);
          resolve();
        },
        cancel: () => parked.resume(),
      };
      this.park(parked);
    });
  }

  private park(parked: Parked): void {
    this.parked.add(parked);
    const delay = Math.max(0, Date.parse(parked.slot.failure!.nextRetryAt) - Date.now());
    parked.timer = setTimeout(() => parked.resume(), delay);
    parked.timer.unref();
  }

  private unpark(parked: Parked): void {
    clearTimeout(parked.timer);
    this.parked.delete(parked);
  }

  private async heartbeat(): Promise<void> {
    await this.readStore
      .collection(STATUS_COLLECTION)
      .upsert({ _id: HEARTBEAT_ID, pid: process.pid, host: hostname(), updatedAt: new Date().toISOString() });
  }

  private async statuses(): Promise<Map<string, SlotStatus>> {
    const docs = await this.readStore.collection<SlotStatus>(STATUS_COLLECTION).find({ role: { $in: ['live', 'rebuild'] } });
    return new Map(docs.map((d) => [d._id, d]));
  }

  private statusDoc(slot: Slot, role: 'live' | 'rebuild', checkpoint: number): SlotStatus {
    const doc: SlotStatus = {
      _id: role === 'live' ? liveId(slot.name) : rebuildId(slot.name),
      projection: slot.name,
      role,
      version: slot.projection.version,
      generation: slot.generation,
      checkpoint,
      updatedAt: new Date().toISOString(),
    };
    if (slot.fence) doc.token = slot.fence.token;
    if (slot.failure) doc.failure = slot.failure;
    if (slot.skipped.length > 0) doc.skipped = slot.skipped;
    return doc;
  }

  private statusChange(slot: Slot, role: 'live' | 'rebuild', checkpoint: number): DocumentChange {
    const doc = this.statusDoc(slot, role, checkpoint);
    return { collection: STATUS_COLLECTION, id: doc._id, doc };
  }

  /**
   * Indexes and dropped collections are not fenced by the read store: each is sent only while the
   * role's lease is valid (as the redo journal's writes are), so a holder that lost its role stops
   * before its successor, who may be creating or filling the same collections, can have started.
   */
  private assertHeld(fence: Fence | undefined): void {
    if (fence && !fence.valid()) throw new FencedError([fence.role], 'its lease lapsed');
  }

  private async ensureIndexes(slot: Slot): Promise<void> {
    for (const [collection, fields] of Object.entries(slot.projection.indexes ?? {})) {
      for (const field of fields) {
        this.assertHeld(slot.fence);
        await this.readStore.ensureIndex(slot.physical[collection], field);
      }
    }
  }

  private async drop(projection: string, generation: number, fence: Fence | undefined): Promise<void> {
    const p = this.byName.get(projection);
    for (const collection of p?.collections ?? []) {
      this.assertHeld(fence);
      await this.readStore.dropCollection(physicalName(projection, collection, generation));
    }
  }

  /** Drops a projection's collections of generations its statuses do not refer to (left by a crash or a lost role). */
  private async collectGarbage(name: string, keep: Array<number | undefined>, fence: Fence): Promise<void> {
    const prefix = `${name}.`;
    for (const collection of await this.readStore.listCollections()) {
      const match = /\.g(\d+)$/.exec(collection);
      if (!match || !collection.startsWith(prefix) || keep.includes(Number(match[1]))) continue;
      if (this.byName.get(name)?.collections.some((c) => collection === physicalName(name, c, Number(match[1])))) {
        this.assertHeld(fence);
        await this.readStore.dropCollection(collection);
      }
    }
  }

  /**
   * Running alone: drops every generation no status refers to, removed projections' included. (In a
   * cluster a process running an older or newer release may use projections this one does not
   * know, so each role only tidies its own collections.)
   */
  private async collectOrphans(): Promise<void> {
    const statuses = await this.statuses();
    const keep = new Set<string>([STATUS_COLLECTION]);
    for (const status of statuses.values()) {
      const p = this.byName.get(status.projection);
      p?.collections.forEach((c) => keep.add(physicalName(p.name, c, status.generation)));
    }
    for (const name of await this.readStore.listCollections()) {
      if (/\.g\d+$/.test(name) && !keep.has(name)) await this.readStore.dropCollection(name);
    }
  }
}

/** Skip records of both lists, each once (by event and version). */
function mergeSkipped(a: SkippedEvent[], b: SkippedEvent[]): SkippedEvent[] {
  const key = (s: SkippedEvent) => `${s.eventId}@${s.version ?? ''}`;
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((s) => !seen.has(key(s)))];
}
