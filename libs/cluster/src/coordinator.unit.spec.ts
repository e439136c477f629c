import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoleCoordinator, RoleRunner } from './coordinator';
import type { Fence } from './fence';
import { newWorkerInfo } from './lease';
import { SqliteStateStore } from './sqlite/sqlite-state-store';
import type { LeaseStore } from './state-store';
import { partitionable } from './testing/partitionable';

/** A runner that records which token it works under, and whether the lease was valid at each check. */
class Recorder implements RoleRunner {
  fence?: Fence;
  readonly tokens: number[] = [];
  starts = 0;
  stops = 0;
  /** How long stop() takes (a page to finish). */
  stopMs = 0;
  async start(lease: Fence): Promise<void> {
    this.fence = lease;
    this.tokens.push(lease.token);
    this.starts += 1;
  }
  async stop(): Promise<void> {
    if (this.stopMs) await sleep(this.stopMs);
    this.fence = undefined;
    this.stops += 1;
  }
  get working(): boolean {
    return this.fence !== undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

const ROLES = ['projection:a', 'projection:b', 'projection:c', 'projection:d'];
const TIMEOUT = 400;

describe('RoleCoordinator', () => {
  let dir: string;
  let store: SqliteStateStore;
  const coordinators: RoleCoordinator[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-coordinator-'));
    store = new SqliteStateStore(join(dir, 'state.db'));
  });
  afterEach(async () => {
    await Promise.all(coordinators.splice(0).map((c) => c.stop()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A coordinator for ROLES; each is its own "process" (another host, so no dead-PID shortcut). */
  function worker(leases: LeaseStore = store, options: { pinned?: string[] } = {}) {
    const runners = new Map(ROLES.map((r) => [r, new Recorder()]));
    const info = { ...newWorkerInfo(), host: `host-${coordinators.length}` };
    const coordinator = new RoleCoordinator(leases, { timeoutMs: TIMEOUT, pollMs: 40, worker: info, pinned: options.pinned });
    for (const [role, runner] of runners) coordinator.register(role, 'projector', runner);
    coordinators.push(coordinator);
    const working = () => ROLES.filter((r) => runners.get(r)!.working);
    return { coordinator, runners, working };
  }

  /** A (whose lease store can be cut off) and B, each working two roles. */
  async function twoWorkers() {
    const partitioned = partitionable(store);
    const a = worker(partitioned);
    await a.coordinator.start();
    const b = worker();
    await b.coordinator.start();
    await until(() => a.working().length === 2 && b.working().length === 2);
    return { a, b, partitioned };
  }

  it('alone, takes every role in its first poll; a second worker gets half of them; a stop hands its roles over at once', async () => {
    const a = worker();
    await a.coordinator.start();
    expect(a.working()).toEqual(ROLES); // before start() resolved
    expect([...a.coordinator.held().values()]).toEqual([1, 1, 1, 1]);

    const b = worker();
    await b.coordinator.start();
    await until(() => a.working().length === 2 && b.working().length === 2);
    // Never two holders at once: what one gave back, the other took with the next token.
    for (const role of ROLES) expect(a.runners.get(role)!.working && b.runners.get(role)!.working).toBe(false);
    const moved = ROLES.filter((r) => b.runners.get(r)!.working);
    for (const role of moved) expect(b.runners.get(role)!.tokens).toEqual([2]);

    const started = Date.now();
    await a.coordinator.stop();
    await until(() => b.working().length === 4);
    expect(Date.now() - started).toBeLessThan(TIMEOUT); // released leases are taken without waiting for the timeout
  });

  it('hands over only its surplus when roles take several polls to stop, and takes none of them back', async () => {
    const a = worker();
    for (const runner of a.runners.values()) runner.stopMs = 300; // ~7 polls
    await a.coordinator.start();
    const b = worker();
    await b.coordinator.start();
    await until(() => a.working().length === 2 && b.working().length === 2);
    await sleep(600);
    expect(a.working()).toHaveLength(2);
    const runners = [...a.runners.values()];
    expect(runners.reduce((n, r) => n + r.stops, 0)).toBe(2);
    expect(runners.reduce((n, r) => n + r.starts, 0)).toBe(4);
  });

  it('takes over from a holder that stops renewing only after a whole lease timeout, with a higher token; the old holder stops before that', async () => {
    const { a, b, partitioned } = await twoWorkers();
    const aRoles = a.working();

    partitioned.cut = true; // A can no longer renew (nor reach anything)
    const cutAt = Date.now();
    // A stops working its roles when its lease lapses (timeout minus margin after the last renewal sent) …
    await until(() => a.working().length === 0, 2 * TIMEOUT);
    const aStoppedAt = Date.now();
    // … and B takes them only after seeing them unchanged for a whole timeout: later than A stopped.
    await until(() => b.working().length === 4, 4 * TIMEOUT);
    const bTookAt = Date.now();
    // (A renewed last at most one renewal interval, a quarter of the timeout, before the cut.)
    expect(bTookAt - cutAt).toBeGreaterThanOrEqual((3 * TIMEOUT) / 4 - 20);
    expect(bTookAt).toBeGreaterThanOrEqual(aStoppedAt);
    for (const role of aRoles) expect(b.runners.get(role)!.fence!.token).toBeGreaterThan(a.runners.get(role)!.tokens.at(-1)!);

    // A's store comes back: its renewals fail (taken over), so it never resumes its old leases; it
    // gets roles again only as B hands surplus ones over, each with a newer token.
    partitioned.cut = false;
    await until(() => a.working().length === 2 && b.working().length === 2, 4 * TIMEOUT);
    for (const role of a.working()) {
      const tokens = a.runners.get(role)!.tokens;
      expect(tokens.at(-1)).toBeGreaterThan(Math.max(...b.runners.get(role)!.tokens));
    }
  });

  it('a holder cut off from the store that nobody took over from resumes its roles when the store is back', async () => {
    const partitioned = partitionable(store);
    const a = worker(partitioned);
    await a.coordinator.start();
    partitioned.cut = true;
    await until(() => a.working().length === 0, 2 * TIMEOUT);
    partitioned.cut = false;
    await until(() => a.working().length === 4, 2 * TIMEOUT);
    for (const role of ROLES) expect(a.runners.get(role)!.tokens).toEqual([1, 1]); // the same lease, started again
  });

  it('a pinned worker takes only its roles; the others are left to workers that may take them', async () => {
    const pinned = worker(store, { pinned: ['projection:a'] });
    await pinned.coordinator.start();
    expect(pinned.working()).toEqual(['projection:a']);
    const other = worker();
    await other.coordinator.start();
    await until(() => other.working().length === 3);
    expect(other.working()).toEqual(['projection:b', 'projection:c', 'projection:d']);
  });

  it('when a worker goes silent, the survivor takes all of its roles within about one lease timeout (the silent one stops counting in the fair share)', async () => {
    const { b, partitioned } = await twoWorkers();
    partitioned.cut = true;
    const cutAt = Date.now();
    await until(() => b.working().length === 4, 3 * TIMEOUT);
    expect(Date.now() - cutAt).toBeLessThan(TIMEOUT + 6 * 40);
  });

  it('a pinned worker that starts after the others gets its roles handed over', async () => {
    const a = worker();
    await a.coordinator.start();
    expect(a.working()).toEqual(ROLES);
    const pinned = worker(store, { pinned: ['projection:a'] });
    await pinned.coordinator.start();
    await until(() => pinned.working().length === 1);
    expect(pinned.working()).toEqual(['projection:a']);
    expect(a.working()).toEqual(['projection:b', 'projection:c', 'projection:d']);
    expect(pinned.runners.get('projection:a')!.tokens).toEqual([2]);
  });

  it('lost(): a runner that found its role taken over is stopped at once and the lease is not renewed', async () => {
    const a = worker();
    await a.coordinator.start();
    a.coordinator.lost('projection:a', 'a commit was refused by its fence');
    await until(() => !a.runners.get('projection:a')!.working);
    expect(a.coordinator.held().has('projection:a')).toBe(false);
    // The lease names this worker still: it takes the role again with the next token.
    await until(() => a.runners.get('projection:a')!.working);
    expect(a.runners.get('projection:a')!.tokens).toEqual([1, 2]);
  });

  it('refuses a renewal interval longer than a third of the timeout', () => {
    expect(() => new RoleCoordinator(store, { timeoutMs: 900, renewMs: 301 })).toThrow(/at most a third/);
    expect(() => new RoleCoordinator(store, { timeoutMs: 900, renewMs: 300 })).not.toThrow();
  });
});
