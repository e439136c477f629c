import { appendFileSync } from 'node:fs';
import { LeaseStore, newWorkerInfo, RoleCoordinator } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { projections } from '@chronicle/projections';
import type { ReadStore } from '@chronicle/read-store';
import { generateHistory } from '../../../../apps/cli/src/seed/generator';
import { appendHistory } from '../../../../apps/cli/src/seed/seed';
import { partitionable } from '../../../cluster/src/testing/partitionable';
import { dumpReadModels } from '../../../../test/support/read-model-dump';
import { projectionRole, Projector } from '../projector';
import { ReadModels } from '../read-models';

/** The stores one projector process opens (its own connections to the shared data). */
export interface ProcessStores {
  reads: ReadStore;
  leases: LeaseStore;
  close(): Promise<void>;
}

export interface SharedRolesOptions {
  events: EventStore;
  /** Opens one process's stores. */
  open(): Promise<ProcessStores>;
  /** A read store the clean build goes into. */
  openClean(): Promise<ReadStore>;
  leaseTimeoutMs: number;
  historyEvents: number;
  batchSize: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two projector "processes" (each with its own store connections and coordinator) share the roles
 * of every built-in projection. One is cut off from the lease store in the middle of the replay:
 * its leases lapse, it stops writing, the other takes its roles over with higher tokens, and when
 * the first comes back it is fenced and gets roles again only with newer tokens. More history
 * arrives meanwhile. The read models end identical to a clean build. (CLUSTER_TEST_LOG=<file>
 * writes both processes' coordinator and projector log lines there.)
 */
export async function sharedRolesScenario(options: SharedRolesOptions): Promise<void> {
  const { events } = options;
  const closers: Array<() => Promise<void>> = [];
  try {
    await appendHistory(events, generateHistory({ events: options.historyEvents, seed: 7, end: new Date('2026-01-01T00:00:00Z') }));
    const member = async (name: string) => {
      const stores = await options.open();
      const leases = partitionable(stores.leases);
      const log = (level: string, message: string) =>
        process.env.CLUSTER_TEST_LOG &&
        appendFileSync(process.env.CLUSTER_TEST_LOG, `${Date.now() % 100000} ${name} ${level} ${message}\n`);
      const projector = new Projector(events, stores.reads, projections, { batchSize: options.batchSize, log });
      const coordinator = new RoleCoordinator(leases, {
        timeoutMs: options.leaseTimeoutMs,
        pollMs: 50,
        worker: { ...newWorkerInfo(), host: name },
        log,
      });
      for (const p of projections) coordinator.register(projectionRole(p.name), 'projector', projector.runner(p.name));
      await projector.startCoordinated((role, reason) => coordinator.lost(role, reason));
      await coordinator.start();
      let closed = false;
      const stop = async () => {
        if (closed) return;
        closed = true;
        await coordinator.stop();
        await projector.stop();
        await stores.close();
      };
      closers.push(stop);
      const works = () => projections.filter((p) => projector.works(p.name)).map((p) => p.name);
      return { reads: stores.reads, coordinator, leases, stop, works };
    };
    const until = async (what: string, check: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
        await sleep(20);
      }
    };

    const a = await member('host-a');
    const b = await member('host-b');
    // Both work: the roles are split (one moves per poll until each has its share).
    const split = () =>
      new Set([...a.works(), ...b.works()]).size === projections.length && a.works().length + b.works().length === projections.length;
    await until(
      'the roles split between A and B',
      // Each its fair share: half of the roles, the odd one to either.
      () => a.works().length <= Math.ceil(projections.length / 2) && b.works().length >= Math.floor(projections.length / 2) && split(),
      20 * options.leaseTimeoutMs,
    );

    // A is cut off from the lease store (not from the read store): it must stop writing on its own.
    const lostByA = a.works();
    a.leases.cut = true;
    await until(
      'B holding every role',
      () => a.works().length === 0 && b.works().length === projections.length,
      20 * options.leaseTimeoutMs,
    );
    const tokens = new Map(b.coordinator.held());
    for (const name of lostByA)
      if ((tokens.get(projectionRole(name)) ?? 0) < 2) throw new Error(`${name} taken over with token ${tokens.get(projectionRole(name))}`);

    // More history arrives while A is away; then A comes back: its old leases are gone.
    await appendHistory(
      events,
      generateHistory({ events: Math.ceil(options.historyEvents / 6), seed: 8, end: new Date('2026-02-01T00:00:00Z') }),
    );
    a.leases.cut = false;
    const head = await events.headPosition();
    // Every projection serving at the head (waitFor alone passes over those still being built).
    const models = new ReadModels(
      b.reads,
      events,
      projections.map((p) => p.name),
      undefined,
      0,
    );
    let behind: string[] = [];
    const caughtUp = async () => {
      behind = (await models.info())
        .filter((p) => p.status !== 'live' || p.checkpoint < head)
        .map((p) => `${p.name} (${p.status} at ${p.checkpoint})`);
      return behind.length === 0;
    };
    const deadline = Date.now() + 120_000;
    while (!(await caughtUp())) {
      if (Date.now() > deadline) throw new Error(`not every projection live at ${head} within 120 s: ${behind.join(', ')}`);
      await sleep(50);
    }
    await until(
      'A holding only newer leases',
      () => [...a.coordinator.held()].every(([role, token]) => token > (tokens.get(role) ?? 0)),
      5 * options.leaseTimeoutMs,
    );

    const actual = await dumpReadModels(b.reads, events, projections);
    await a.stop();
    await b.stop();

    const clean = await options.openClean();
    const alone = new Projector(events, clean, projections, { batchSize: options.batchSize });
    await alone.start();
    await new ReadModels(
      clean,
      events,
      projections.map((p) => p.name),
      alone,
    ).waitFor(head, 120_000);
    const expected = await dumpReadModels(clean, events, projections);
    await alone.stop();
    await clean.close();
    const differing = Object.keys(expected).filter((k) => JSON.stringify(actual[k]) !== JSON.stringify(expected[k]));
    if (differing.length) {
      const sample = (k: string) => {
        const a = actual[k] as Array<{ _id: string }>;
        const e = expected[k] as Array<{ _id: string }>;
        const byId = new Map(a.map((d) => [d._id, JSON.stringify(d)]));
        const bad = e.filter((d) => byId.get(d._id) !== JSON.stringify(d));
        return `${k} (${a.length} vs ${e.length} docs, ${bad.length} differ; e.g. expected ${JSON.stringify(bad[0])?.slice(0, 300)} got ${byId.get(bad[0]?._id)?.slice(0, 300)})`;
      };
      throw new Error(`read models differ from a clean build: ${differing.map(sample).join('\n')}`);
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}
