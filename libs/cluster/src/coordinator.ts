import { EventEmitter } from 'node:events';
import { Fence, isFencedError } from './fence';
import { Lease, monotonicNow, newWorkerInfo, processAlive } from './lease';
import type { LeaseRecord, LeaseStore, WorkerInfo, WorkerRecord } from './state-store';

/** What works a role while this process holds its lease. */
export interface RoleRunner {
  /**
   * Starts working the role under `lease`: claims its fences or checkpoints with the lease's token
   * first (so that nothing the previous holder might still write lands after that), then works in
   * the background. Resolves once started; a rejection gives the lease back.
   */
  start(lease: Fence): Promise<void>;
  /** Stops working the role; resolves once this process will write nothing more for it. */
  stop(): Promise<void>;
}

export interface CoordinatorOptions {
  /** A lease not renewed for this long (as a standby observes it) may be taken over. */
  timeoutMs: number;
  /** How often held leases are renewed (default a quarter of the timeout; at most a third). */
  renewMs?: number;
  /** How often leases are looked at (default the smaller of 1 s and a fifth of the timeout), ±20 % jitter. */
  pollMs?: number;
  /** Roles this process may take (`PROJECTIONS`); default: every role registered. */
  pinned?: readonly string[];
  /**
   * Take a role over at once when its holder ran on this host, in this PID namespace, and its
   * process is gone (a crash on a single machine). Default true.
   */
  reapDeadLocalHolders?: boolean;
  /** Who this process is (default: host, pid and a random suffix). */
  worker?: WorkerInfo;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

type RoleState = 'idle' | 'starting' | 'running' | 'suspended' | 'stopping';

interface RoleEntry {
  role: string;
  group: string;
  runner: RoleRunner;
  state: RoleState;
  lease?: Lease;
  /** Monotonic time of the last renewal attempt. */
  renewedAt: number;
  /** The role's lease as last seen when someone else held it, and since when (monotonic) unchanged. */
  observed?: { key: string; at: number; freeSince?: number };
  /** Not before this (monotonic): after a failed start. */
  backoffUntil: number;
  /** Serialises start/stop of this role. */
  transition: Promise<void>;
}

/** A role's lease and what this process knows of it, for status pages. */
export interface RoleView {
  role: string;
  group: string;
  held: boolean;
  state: RoleState;
  token?: number;
}

/** How a pinned worker announces a role it reserves, among its groups. */
const PIN = 'pin:';

/** Workers of this process that are running: a lease naming one of them is not a dead holder's. */
const liveWorkers = new Set<string>();

/**
 * Spreads roles over the processes that can work them, by leases in the shared LeaseStore (see
 * docs/operations.md). The leases it holds are renewed on a timer of their own. Every poll it
 * reports its heartbeat and looks at every role's lease: a role with no lease, a released one, one that has not changed for the
 * lease timeout (observed on this process's monotonic clock), or one whose holder died on this
 * host, is free. It takes free roles up to its fair share (roles ÷ live workers of the group,
 * rounded up; beyond that only roles nobody took for a whole timeout), and gives up one surplus
 * role per poll when other workers have joined. A role whose lease lapsed without renewal (the
 * store unreachable) is stopped until a renewal gets through; one taken over is stopped for good.
 * Emits 'acquired' (role, token), 'lost' (role, token, reason) and 'released' (role, token).
 */
export class RoleCoordinator extends EventEmitter {
  readonly worker: WorkerInfo;
  private readonly roles = new Map<string, RoleEntry>();
  private readonly timeoutMs: number;
  private readonly renewMs: number;
  private readonly pollMs: number;
  private readonly marginMs: number;
  private readonly log: NonNullable<CoordinatorOptions['log']>;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** Workers found dead or silent (a lease of theirs taken over), with their heartbeat then. */
  private readonly gone = new Map<string, string>();
  private renewTimer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private firstPoll = false;
  private firstStarts: Promise<boolean>[] = [];
  private started = false;
  private stopped = false;
  private storeDown = false;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: CoordinatorOptions,
  ) {
    super();
    this.timeoutMs = options.timeoutMs;
    this.renewMs = options.renewMs ?? Math.floor(options.timeoutMs / 4);
    this.pollMs = options.pollMs ?? Math.min(1000, Math.floor(options.timeoutMs / 5));
    // The holder stops half a timeout before any standby may take over: room for a write it sent
    // just before to reach the store (the redo journal's apply phase checks the lease only when
    // it sends a write). Renewals every quarter of the timeout leave a quarter for their replies.
    this.marginMs = Math.floor(options.timeoutMs / 2);
    if (this.renewMs * 3 > this.timeoutMs)
      throw new Error(`lease renewal every ${this.renewMs} ms must be at most a third of the lease timeout (${this.timeoutMs} ms)`);
    this.worker = options.worker ?? newWorkerInfo();
    this.log = options.log ?? (() => undefined);
  }

  /** Registers a role this process can work; `group` is the set of processes that share such roles. */
  register(role: string, group: string, runner: RoleRunner): void {
    if (this.roles.has(role)) throw new Error(`role "${role}" is registered twice`);
    this.roles.set(role, { role, group, runner, state: 'idle', renewedAt: 0, backoffUntil: 0, transition: Promise.resolve() });
  }

  /** Whether a role may be taken here at all (PROJECTIONS pins a process to some roles of a group). */
  allowed(role: string): boolean {
    const entry = this.roles.get(role);
    const pinned = entry && this.pinnedIn(entry.group);
    return !pinned || pinned.has(role);
  }

  /** Joins the cluster: the first poll runs (and the roles it takes start) before this resolves. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    liveWorkers.add(this.worker.id);
    this.firstPoll = true;
    try {
      await this.tick();
      await Promise.all(this.firstStarts.splice(0));
    } finally {
      this.firstPoll = false;
    }
    this.schedule();
    this.scheduleRenewals();
  }

  /** Stops every role, gives every lease back and leaves the cluster. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    await this.ticking;
    await this.renewing;
    await Promise.all([...this.roles.values()].map((entry) => this.giveUp(entry, 'released', 'shutting down')));
    await this.store.removeWorker(this.worker.id).catch(() => undefined);
    liveWorkers.delete(this.worker.id);
  }

  /** Roles held now, with their tokens. */
  held(): Map<string, number> {
    const held = new Map<string, number>();
    for (const entry of this.roles.values()) if (entry.lease && !entry.lease.isEnded) held.set(entry.role, entry.lease.token);
    return held;
  }

  /** Whether the last poll reached the lease store (health checks). */
  get storeReachable(): boolean {
    return !this.storeDown;
  }

  views(): RoleView[] {
    return [...this.roles.values()].map((e) => ({
      role: e.role,
      group: e.group,
      held: !!e.lease && !e.lease.isEnded,
      state: e.state,
      token: e.lease?.token,
    }));
  }

  /**
   * A runner found its role taken over (a write refused by the fence): stop it now rather than at
   * the next renewal.
   */
  lost(role: string, reason: string): void {
    const entry = this.roles.get(role);
    if (entry?.lease) void this.giveUp(entry, 'lost', reason);
  }

  /** Runs one poll now (tests; the timer does it otherwise). */
  poll(): Promise<void> {
    return this.tick();
  }

  /** Renews the leases that are due now (tests; the timer does it otherwise). */
  async renew(): Promise<void> {
    await this.renewDue();
    this.suspendLapsed();
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.pollMs * (0.8 + Math.random() * 0.4);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  /**
   * Renewals run on their own timer, four times per renewal interval: a poll that waits for the
   * store, or a role that takes long to start or stop, never holds up the renewal of the others.
   */
  private scheduleRenewals(): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(
      () => {
        this.renewing = this.renewDue()
          .then(() => this.suspendLapsed())
          .catch((error) => this.log('warn', `renewing leases: ${(error as Error).message}`))
          .finally(() => {
            this.renewing = undefined;
            this.scheduleRenewals();
          });
      },
      Math.max(50, this.renewMs / 4),
    );
    this.renewTimer.unref();
  }

  private tick(): Promise<void> {
    // One poll at a time; a call during one waits for it.
    this.ticking ??= this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    if (this.stopped) return;
    let leases: LeaseRecord[];
    let workers: WorkerRecord[];
    const heldBefore = [...this.held().keys()].join();
    try {
      await this.store.heartbeat(this.worker, this.announcedGroups(), [...this.held().keys()]);
      [leases, workers] = await Promise.all([this.store.leases(), this.store.workers()]);
      if (this.storeDown) this.log('info', 'lease store reachable again');
      this.storeDown = false;
    } catch (error) {
      if (!this.storeDown) this.log('warn', `lease store unreachable (${(error as Error).message}); holders stop when their lease lapses`);
      this.storeDown = true;
      return;
    }
    if (this.stopped) return;
    const now = monotonicNow();
    const byRole = new Map(leases.map((l) => [l.role, l]));
    // Which roles are free, and the holders found dead or silent on the way: they count no more
    // (until their heartbeat moves again: a paused process that resumes).
    const free = new Set<RoleEntry>();
    const beats = new Map(workers.map((w) => [w.id, w.beatAt]));
    for (const entry of this.roles.values()) {
      if (entry.lease && !entry.lease.isEnded) continue;
      const lease = byRole.get(entry.role);
      if (!this.isFree(entry, lease, now)) continue;
      free.add(entry);
      if (lease && !lease.released && lease.holder.id !== this.worker.id && !this.gone.has(lease.holder.id))
        this.gone.set(lease.holder.id, beats.get(lease.holder.id) ?? '');
    }
    for (const [id, beatAt] of this.gone) if (beats.get(id) !== beatAt) this.gone.delete(id);
    // Workers silent for long (killed: they never said goodbye) are forgotten.
    for (const w of workers)
      if (w.id !== this.worker.id && Date.now() - Date.parse(w.beatAt) > 20 * this.timeoutMs)
        void this.store.removeWorker(w.id).catch(() => undefined);
    const live = this.liveWorkers(workers);
    // Roles a live pinned worker (PROJECTIONS) reserves: left to it.
    const reserved = new Set(live.flatMap((w) => w.groups.filter((g) => g.startsWith(PIN)).map((g) => g.slice(PIN.length))));
    for (const group of new Set([...this.roles.values()].map((e) => e.group))) {
      const pinned = this.pinnedIn(group);
      const entries = [...this.roles.values()].filter((e) => e.group === group && (pinned ? pinned.has(e.role) : !reserved.has(e.role)));
      const workersOfGroup = live.filter((w) => w.groups.includes(group)).length;
      const share = pinned ? entries.length : Math.ceil(entries.length / Math.max(1, workersOfGroup));
      // Roles on their way out count no more: one still finishing its page is not given back twice.
      let count = entries.filter((e) => e.lease && !e.lease.isEnded && e.state !== 'stopping').length;
      for (const entry of shuffle(entries.filter((e) => free.has(e) && now >= e.backoffUntil))) {
        // Beyond the fair share, only roles nobody else has taken for a whole timeout.
        const unclaimed = entry.observed?.freeSince !== undefined && now - entry.observed.freeSince >= this.timeoutMs;
        if (count >= share && !unclaimed) continue;
        if (await this.acquire(entry, byRole.get(entry.role)?.token ?? 0)) count += 1;
        if (this.stopped) return;
      }
      // One role per poll goes back: one a pinned worker reserves, or a surplus one once others joined.
      const held = [...this.roles.values()].filter((e) => e.group === group && e.state === 'running');
      const giveBack = pinned ? [] : held.filter((e) => reserved.has(e.role));
      if (giveBack.length === 0 && !pinned && count > share && workersOfGroup > 1) giveBack.push(...held);
      const surplus = shuffle(giveBack)[0];
      // Not awaited: the role finishes its page meanwhile, and the poll goes on.
      if (surplus)
        void this.giveUp(
          surplus,
          'released',
          reserved.has(surplus.role) ? 'pinned to another process (PROJECTIONS)' : `rebalancing (fair share ${share})`,
        );
    }
    // The heartbeat names the roles held: say at once what this poll changed.
    if ([...this.held().keys()].join() !== heldBefore)
      await this.store.heartbeat(this.worker, this.announcedGroups(), [...this.held().keys()]).catch(() => undefined);
  }

  /** What the heartbeat announces: the groups whose fair share it takes part in, and `pin:<role>` for pinned roles. */
  private announcedGroups(): string[] {
    const announced = new Set<string>();
    for (const entry of this.roles.values()) {
      const pinned = this.pinnedIn(entry.group);
      if (!pinned) announced.add(entry.group);
      else if (pinned.has(entry.role)) announced.add(`${PIN}${entry.role}`);
    }
    return [...announced];
  }

  /** The roles of a group this worker is pinned to, or undefined when PROJECTIONS names none of the group's roles. */
  private pinnedIn(group: string): Set<string> | undefined {
    if (!this.options.pinned) return undefined;
    const pinned = [...this.roles.values()].filter((e) => e.group === group && this.options.pinned!.includes(e.role)).map((e) => e.role);
    return pinned.length ? new Set(pinned) : undefined;
  }

  /**
   * The workers heard from recently, this one included, without those whose leases were found
   * silent or whose process is gone (their roles are being taken over: they must not hold back
   * the survivors' fair share).
   */
  private liveWorkers(workers: WorkerRecord[]): WorkerRecord[] {
    const wall = Date.now();
    // Wall clocks of different machines only decide the fair share here, never a lease.
    const others = workers.filter(
      (w) => w.id !== this.worker.id && !this.gone.has(w.id) && wall - Date.parse(w.beatAt) < this.timeoutMs + 2 * this.pollMs,
    );
    return [...others, { ...this.worker, groups: this.announcedGroups(), roles: [], beatAt: new Date(wall).toISOString() }];
  }

  /**
   * Whether the role can be taken now, updating what has been observed of its lease (and since when
   * it has been free: `observed.freeSince`).
   */
  private isFree(entry: RoleEntry, lease: LeaseRecord | undefined, now: number): boolean {
    if (lease && !lease.released && lease.holder.id !== this.worker.id && !this.holderDead(lease)) {
      // Held by another process: free once its lease has not changed for a whole timeout.
      const key = `${lease.token}:${lease.beat}`;
      if (entry.observed?.key !== key) entry.observed = { key, at: now };
      if (now - entry.observed.at < this.timeoutMs) return false;
      entry.observed.freeSince ??= now;
      return true;
    }
    // No lease, a released one, ours though we do not hold it (a lost acquire reply), or a dead holder's.
    const key = lease ? `${lease.token}:${lease.beat}:free` : 'none';
    if (entry.observed?.key !== key) entry.observed = { key, at: now, freeSince: now };
    return true;
  }

  private holderDead(lease: LeaseRecord): boolean {
    if (this.options.reapDeadLocalHolders === false) return false;
    const h = lease.holder;
    if (h.host !== this.worker.host || !h.pidNamespace || h.pidNamespace !== this.worker.pidNamespace) return false;
    if (h.pid === process.pid) return !liveWorkers.has(h.id); // an earlier instance in this very process
    return !processAlive(h.pid);
  }

  private async acquire(entry: RoleEntry, current: number): Promise<boolean> {
    let record: LeaseRecord | undefined;
    const sentAt = monotonicNow();
    try {
      record = await this.store.acquire(entry.role, this.worker, current);
    } catch (error) {
      this.log('warn', `acquiring ${entry.role} failed: ${(error as Error).message}`);
      return false;
    }
    if (!record) return false;
    const lease = new Lease(entry.role, record.token, record.since, sentAt + this.timeoutMs - this.marginMs);
    entry.lease = lease;
    entry.renewedAt = sentAt;
    entry.observed = undefined;
    this.log('info', `acquired ${entry.role} (token ${lease.token})`);
    this.emit('acquired', entry.role, lease.token);
    // Roles start side by side; the first poll (start()) waits for them, later ones go on.
    const starting = this.startRunner(entry, lease);
    if (this.firstPoll) this.firstStarts.push(starting);
    return true;
  }

  private async startRunner(entry: RoleEntry, lease: Lease): Promise<boolean> {
    let ok = false;
    await this.transition(entry, async () => {
      if (lease.isEnded || this.stopped) return;
      entry.state = 'starting';
      try {
        await entry.runner.start(lease);
        entry.state = 'running';
        ok = true;
      } catch (error) {
        entry.state = 'idle';
        await entry.runner.stop().catch(() => undefined);
        if (isFencedError(error)) {
          // A holder with a higher token claimed the role meanwhile: ours is dead.
          this.drop(entry, 'lost', (error as Error).message, lease);
          return;
        }
        this.log('warn', `starting ${entry.role} failed (${(error as Error).message}); giving the lease back`);
        entry.backoffUntil = monotonicNow() + this.timeoutMs;
        await this.store.release(entry.role, lease.token).catch(() => undefined);
        this.drop(entry, 'released', 'start failed', lease);
      }
    });
    return ok;
  }

  private async renewDue(): Promise<void> {
    const now = monotonicNow();
    const due = [...this.roles.values()].filter((e) => e.lease && !e.lease.isEnded && now - e.renewedAt >= this.renewMs);
    await Promise.all(
      due.map(async (entry) => {
        const lease = entry.lease!;
        const sentAt = monotonicNow();
        entry.renewedAt = sentAt;
        let renewed: boolean;
        try {
          renewed = await this.store.renew(entry.role, lease.token);
        } catch (error) {
          this.log('debug', `renewing ${entry.role} failed: ${(error as Error).message}`);
          return;
        }
        if (lease.isEnded) return;
        if (!renewed) {
          void this.giveUp(entry, 'lost', 'another process holds it now');
          return;
        }
        lease.extend(sentAt + this.timeoutMs - this.marginMs);
        if (entry.state === 'suspended' && lease.valid()) {
          this.log('info', `${entry.role}: lease renewed again (token ${lease.token}); resuming`);
          entry.state = 'starting';
          void this.startRunner(entry, lease);
        }
      }),
    );
  }

  /** Roles whose lease lapsed without a renewal stop writing until a renewal gets through. */
  private suspendLapsed(): void {
    for (const entry of this.roles.values()) {
      if (entry.state !== 'running' || !entry.lease || entry.lease.valid()) continue;
      entry.state = 'suspended';
      this.log('warn', `${entry.role}: lease (token ${entry.lease.token}) not renewed in time; stopped until it is`);
      void this.transition(entry, () => entry.runner.stop());
    }
  }

  /** Stops the role's runner and ends its lease: released (given back in the store) or lost. */
  private async giveUp(entry: RoleEntry, how: 'released' | 'lost', reason: string): Promise<void> {
    const lease = entry.lease;
    if (!lease || lease.isEnded) return;
    if (how === 'lost') lease.end(); // nothing more may be written for it, even while stopping
    entry.state = 'stopping';
    await this.transition(entry, async () => {
      await entry.runner.stop().catch((error) => this.log('warn', `stopping ${entry.role}: ${(error as Error).message}`));
      if (how === 'released') await this.store.release(entry.role, lease.token).catch(() => undefined);
    });
    this.drop(entry, how, reason, lease);
  }

  /** Forgets `lease` (the entry's lease when it was given up: a newer one taken since stays). */
  private drop(entry: RoleEntry, how: 'released' | 'lost', reason: string, lease = entry.lease): void {
    if (!lease || entry.lease !== lease) {
      lease?.end();
      return;
    }
    lease.end();
    entry.lease = undefined;
    entry.state = 'idle';
    entry.observed = undefined;
    this.log(how === 'lost' ? 'warn' : 'info', `${how} ${entry.role} (token ${lease.token}): ${reason}`);
    this.emit(how, entry.role, lease.token, reason);
  }

  private transition(entry: RoleEntry, task: () => Promise<void>): Promise<void> {
    const next = entry.transition.then(task, task);
    entry.transition = next.catch(() => undefined);
    return next;
  }
}

function shuffle<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
