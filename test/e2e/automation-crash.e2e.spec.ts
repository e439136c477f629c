import Database from 'better-sqlite3';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteEventStore } from '@chronicle/event-store';
import type { RecordedEvent } from '@chronicle/event-store';
import { client } from '../support/http';
import { startTestApp } from '../support/test-app';

/**
 * Exactly-once side effects of the automation process managers under SIGKILL: a history is
 * written with the process managers off, then a process running them is killed several times
 * in the middle of its reactions (after a growing number of appended events) and restarted; the
 * last start runs to the end. Every score, assignment, task and enrollment is there exactly once.
 */

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
const LEADS = 60;
const DEALS = 20;

function startChild(env: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<number | null>; started: Promise<void> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/support/automation-child.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const started = new Promise<void>((done) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('started')) done();
    });
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(`automation child failed: ${output}\n`);
  });
  return { child, exited, started };
}

describe('automation process managers after SIGKILL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-automation-crash-'));
  const assignmentFile = join(dataDir, 'assignment.json');
  writeFileSync(assignmentFile, JSON.stringify({ strategy: 'round-robin', reps: [{ id: 'rep-a' }, { id: 'rep-b' }, { id: 'rep-c' }] }));
  const env = {
    DATA_DIR: dataDir,
    ASSIGNMENT_FILE: assignmentFile,
    EVENT_STORE: 'sqlite',
    READ_STORE: 'embedded',
    SQLITE_SYNCHRONOUS: 'NORMAL',
    LOG_LEVEL: 'silent',
    API_KEYS: '',
  };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('killed mid-run 4 times, restarted: every reaction exactly once', async () => {
    // The history, written with the process managers off.
    const t = await startTestApp({ dataDir, processManagers: false, env: { EVENT_STORE: 'sqlite', ASSIGNMENT_FILE: assignmentFile } });
    const api = client(t, 'manager');
    const leads = await Promise.all(
      Array.from({ length: LEADS }, (_, i) =>
        api.post('/leads', { name: `L${i}`, source: 'web', attributes: { industry: i % 2 ? 'software' : 'retail' } }),
      ),
    );
    for (const lead of leads.slice(0, 20))
      expect((await api.post(`/leads/${lead.body.id}/interactions`, { type: 'web-visit' })).status).toBe(201);
    const customers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => api.post('/customers', { name: `C${i}`, source: 'web', ownerId: 'rep-a' })),
    );
    for (let i = 0; i < DEALS; i++) {
      const r = await api.post('/deals', {
        customerId: customers[i % 5].body.id,
        title: `D${i}`,
        amount: i % 2 ? 700 : 300,
        ownerId: 'rep-a',
      });
      expect(r.status).toBe(201);
    }
    const initialHead = await t.store.headPosition();
    await t.close();
    // 60 + 20 scores, 60 assignments, 10 tasks (≥ 500), 5 enrollments (once per customer).
    const expectedNew = LEADS + 20 + LEADS + DEALS / 2 + 5;

    const head = () => {
      const db = new Database(join(dataDir, 'events.db'), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT MAX(position) AS p FROM events').get() as { p: number }).p;
      } finally {
        db.close();
      }
    };
    const killedAt: number[] = [];
    for (let k = 1; k <= 4; k++) {
      const threshold = initialHead + Math.floor((k * expectedNew) / 5);
      const run = startChild(env);
      let exited = false;
      void run.exited.then(() => (exited = true));
      await run.started;
      while (head() < threshold && !exited) await new Promise((r) => setTimeout(r, 5));
      expect(exited).toBe(false); // killed while still reacting
      run.child.kill('SIGKILL');
      await run.exited;
      killedAt.push(head());
    }
    // The kills fell in the middle of the reactions (the first one at the latest).
    expect(killedAt[0]).toBeLessThan(initialHead + expectedNew);
    const last = startChild(env);
    expect(await last.exited).toBe(0);
    // And once more: nothing left to do.
    const again = startChild(env);
    expect(await again.exited).toBe(0);

    const store = new SqliteEventStore({ filename: join(dataDir, 'events.db') });
    const events: RecordedEvent[] = [];
    for (let from = 0; ;) {
      const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
      events.push(...page.events);
      if (page.isEnd) break;
      from = page.checkpoint;
    }
    await store.close();
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(events.length - initialHead).toBe(expectedNew);
    expect([count('LeadScored'), count('LeadAssigned'), count('TaskCreated'), count('CustomerEnrolled')]).toEqual([80, 60, 10, 5]);
    // One reaction per cause and purpose: no cause has two scores, two assignments or two tasks.
    for (const type of ['LeadScored', 'LeadAssigned', 'TaskCreated']) {
      const causes = events.filter((e) => e.type === type).map((e) => e.causationId);
      expect(new Set(causes).size).toBe(causes.length);
    }
    const owners = events
      .filter((e) => e.type === 'LeadAssigned')
      .reduce<Record<string, number>>((m, e) => {
        const o = (e.data as { ownerId: string }).ownerId;
        return { ...m, [o]: (m[o] ?? 0) + 1 };
      }, {});
    expect(owners).toEqual({ 'rep-a': 20, 'rep-b': 20, 'rep-c': 20 });
  });
});
