import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@chronicle/event-store';
import { Projector, ReadModels } from '@chronicle/projector';
import { projections } from '@chronicle/projections';
import { EmbeddedReadStore } from '@chronicle/read-store';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { dumpReadModels } from '../support/read-model-dump';

const ROOT = join(__dirname, '..', '..');
const RUNS = 20;

/** `threaded`: every commit goes through the embedded store's writer thread, one page in flight while the next applies. */
function startChild(
  eventsFile: string,
  readsFile: string,
  threaded: boolean,
): { child: ChildProcess; exited: Promise<number | null>; started: Promise<void> } {
  const args = ['-r', '@swc-node/register', 'test/support/projector-child.ts', eventsFile, readsFile, '300', threaded ? '0' : 'Infinity'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const started = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('started')) resolve();
    });
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(`projector child failed: ${output}\n`);
  });
  return { child, exited, started };
}

/**
 * docs/quality.md: after a crash at any point (SIGKILL included), a restarted projector leaves every read
 * model identical to a from-scratch rebuild. 20 runs, each killed at a random moment of a replay.
 */
describe('projector crash safety (SIGKILL during replay)', () => {
  let dir: string;
  let eventsFile: string;
  let expected: Record<string, unknown[]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-crash-'));
    eventsFile = join(dir, 'events.db');
    const store = new SqliteEventStore({ filename: eventsFile, synchronous: 'NORMAL' });
    await appendHistory(store, generateHistory({ events: 15_000, seed: 11, end: new Date('2026-01-01T00:00:00Z') }));
    // The reference: a clean build in this process.
    const reads = new EmbeddedReadStore(join(dir, 'clean.db'));
    const projector = new Projector(store, reads, projections);
    await projector.start();
    await new ReadModels(
      reads,
      store,
      projections.map((p) => p.name),
      projector,
    ).waitFor(await store.headPosition(), 120_000);
    expected = await dumpReadModels(reads, store, projections);
    await projector.stop();
    await reads.close();
    await store.close();
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has built-in projections with content to compare', () => {
    expect(projections.length).toBeGreaterThan(0);
    expect(Object.values(expected).reduce((n, docs) => n + docs.length, 0)).toBeGreaterThan(1000);
  });

  it(`${RUNS} replays killed at random points end identical to a clean rebuild`, async () => {
    const kills: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const readsFile = join(dir, `run-${run}.db`);
      const events = join(dir, `events-${run}.db`);
      copyFileSync(eventsFile, events);
      // Kill once or twice at random moments of the replay, then let a last start finish; runs
      // 2, 3, 6, 7, … commit through the writer thread, the others on the projector's thread.
      const crashes = 1 + (run % 2);
      const threaded = Math.floor(run / 2) % 2 === 1;
      for (let k = 0; k < crashes; k++) {
        const first = startChild(events, readsFile, threaded);
        await first.started;
        const delay = Math.floor(Math.random() * 400);
        kills.push(delay);
        await new Promise((r) => setTimeout(r, delay));
        first.child.kill('SIGKILL');
        await first.exited;
      }
      const last = startChild(events, readsFile, threaded);
      expect(await last.exited).toBe(0);
      const store = new SqliteEventStore({ filename: events });
      const reads = new EmbeddedReadStore(readsFile);
      const actual = await dumpReadModels(reads, store, projections);
      await reads.close();
      await store.close();
      expect(actual).toEqual(expected);
    }
  }, 600_000);
});
