import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newWorkerInfo, RoleCoordinator, SqliteStateStore } from '@chronicle/cluster';
import { SqliteEventStore } from '@chronicle/event-store';
import { projections } from '@chronicle/projections';
import { EmbeddedReadStore } from '@chronicle/read-store';
import { generateHistory } from '../../../apps/cli/src/seed/generator';
import { appendHistory } from '../../../apps/cli/src/seed/seed';
import { partitionable } from '../../cluster/src/testing/partitionable';
import { dumpReadModels } from '../../../test/support/read-model-dump';
import { projectionRole, Projector } from './projector';
import { ReadModels } from './read-models';

/**
 * Two projector "processes" (each its own stores' connections and coordinator) share the roles of
 * every built-in projection on one embedded store. One is cut off from the lease store in the
 * middle of the replay: its leases lapse, it stops writing, the other takes its roles over with
 * higher tokens, and when the first one comes back it is fenced. The read models end identical to
 * a clean build.
 */
jest.setTimeout(120_000);

const TIMEOUT = 2000;

describe('projectors sharing the roles of a cluster (embedded stores)', () => {
  let dir: string;
  let events: SqliteEventStore;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-projector-cluster-'));
    events = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL', pollIntervalMs: 20 });
    await appendHistory(events, generateHistory({ events: 12_000, seed: 7, end: new Date('2026-01-01T00:00:00Z') }));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One process: its own read-store and state-store connections, a projector and a coordinator. */
  function member(name: string) {
    const reads = new EmbeddedReadStore(join(dir, 'reads.db'));
    const state = new SqliteStateStore(join(dir, 'state.db'));
    const leases = partitionable(state);
    const log = (level: string, message: string) => process.env.CLUSTER_TEST_LOG && appendFileSync(process.env.CLUSTER_TEST_LOG, `${Date.now() % 100000} ${name} ${level} ${message}\n`);
    const projector = new Projector(events, reads, projections, { batchSize: 1000, log });
    const coordinator = new RoleCoordinator(leases, { timeoutMs: TIMEOUT, pollMs: 50, worker: { ...newWorkerInfo(), host: name }, log });
    for (const p of projections) coordinator.register(projectionRole(p.name), 'projector', projector.runner(p.name));
    const start = async () => {
      await projector.startCoordinated((role, reason) => coordinator.lost(role, reason));
      await coordinator.start();
    };
    const stop = async () => {
      await coordinator.stop();
      await projector.stop();
      await reads.close();
      await state.close();
    };
    closers.push(stop);
    const works = () => projections.filter((p) => projector.works(p.name)).map((p) => p.name);
    return { reads, projector, coordinator, leases, start, stop, works };
  }

  it('split the roles, survive a holder cut off mid-replay, and end identical to a clean build', async () => {
    const a = member('host-a');
    const b = member('host-b');
    await a.start();
    await b.start();
    // Both work: the roles are split (one moves per poll until each has its share).
    const deadline = Date.now() + 20_000;
    const split = () => new Set([...a.works(), ...b.works()]).size === projections.length && a.works().length + b.works().length === projections.length;
    while (a.works().length > 9 || b.works().length < 8 || !split()) {
      if (Date.now() > deadline) throw new Error(`not split: ${a.works().length} / ${b.works().length}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    // A is cut off from the lease store (not from the read store): it must stop writing on its own.
    const lostByA = a.works();
    a.leases.cut = true;
    while (a.works().length > 0 || b.works().length < projections.length) {
      if (Date.now() > deadline + 20_000) throw new Error(`no takeover: ${a.works().length} / ${b.works().length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const tokens = new Map(b.coordinator.held());
    for (const name of lostByA) expect(tokens.get(projectionRole(name))).toBeGreaterThanOrEqual(2);

    // More history arrives while A is away.
    await appendHistory(events, generateHistory({ events: 2_000, seed: 8, end: new Date('2026-02-01T00:00:00Z') }));
    a.leases.cut = false; // A comes back: its old leases are gone; it only gets roles back with newer tokens

    const head = await events.headPosition();
    const models = new ReadModels(b.reads, events, projections.map((p) => p.name), undefined, 0);
    await models.waitFor(head, 30_000).catch(async (e) => {
      process.stderr.write(`STUCK ${JSON.stringify((await models.info()).map((p) => [p.name, p.checkpoint]))}\nA ${JSON.stringify(a.projector.checkpoints())} ${JSON.stringify([...a.coordinator.held()])}\nB ${JSON.stringify(b.projector.checkpoints())} ${JSON.stringify([...b.coordinator.held()])}\n`);
      throw e;
    });
    // Once A has heard from the store again, it holds no lease it held before the cut.
    const healed = Date.now() + 5000;
    while (![...a.coordinator.held()].every(([role, token]) => token > (tokens.get(role) ?? 0))) {
      if (Date.now() > healed) throw new Error(`A still holds ${JSON.stringify([...a.coordinator.held()])}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const actual = await dumpReadModels(b.reads, events, projections);
    await a.stop();
    await b.stop();

    const clean = new EmbeddedReadStore(join(dir, 'clean.db'));
    const alone = new Projector(events, clean, projections);
    await alone.start();
    await new ReadModels(clean, events, projections.map((p) => p.name), alone).waitFor(head, 60_000);
    const expected = await dumpReadModels(clean, events, projections);
    await alone.stop();
    await clean.close();
    const differing = Object.keys(expected).filter((k) => JSON.stringify(actual[k]) !== JSON.stringify(expected[k]));
    if (differing.length) process.stderr.write(`DIFF ${differing.join(', ')}\n`);
    expect(actual).toEqual(expected);
  });
});
