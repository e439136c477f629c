import fc from 'fast-check';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams } from '../testing/report-params';
import { upcomingActivityProjection } from './projection';
import { upcomingActivityReport } from './query';
import { upcomingActivityReference } from './reference';

const created = (id: string, occurredAt: string, ownerId: string, dueAt: string): ScenarioEvent => ({
  streamId: `task-${id}`,
  type: 'TaskCreated',
  occurredAt,
  data: { taskId: id, ownerId, subject: `Task ${id}`, dueAt },
});
const completed = (id: string, occurredAt: string): ScenarioEvent => ({
  streamId: `task-${id}`,
  type: 'TaskCompleted',
  occurredAt,
  data: { taskId: id },
});

/** asOf: Sunday 2024-03-10 12:00; due window [asOf, Mar 17 12:00), done window [Mar 3 12:00, asOf). */
const AS_OF = '2024-03-10T12:00:00.000Z';
const scenario: ScenarioEvent[] = [
  created('T12', '2024-02-01T00:00:00.000Z', 'u4', '2024-02-10T00:00:00.000Z'),
  completed('T12', '2024-02-11T00:00:00.000Z'), // long before: nothing at AS_OF
  created('T1', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-05T00:00:00.000Z'), // open, overdue
  created('T2', '2024-03-01T00:00:00.000Z', 'u1', AS_OF), // due at exactly asOf: due in the next 7 days
  created('T5', '2024-03-01T00:00:00.000Z', 'u2', '2024-03-04T00:00:00.000Z'),
  created('T6', '2024-03-01T00:00:00.000Z', 'u2', '2024-03-06T00:00:00.000Z'),
  created('T7', '2024-03-01T00:00:00.000Z', 'u2', '2024-03-08T00:00:00.000Z'),
  created('T11', '2024-03-01T00:00:00.000Z', '', '2024-03-15'), // no owner: unassigned; a date alone is its UTC midnight
  created('T3', '2024-03-02T00:00:00.000Z', 'u1', '2024-03-17T12:00:00.000Z'), // due at the due window's end: not counted
  created('T4', '2024-03-02T00:00:00.000Z', 'u1', '2024-03-17T11:59:59.999Z'), // its last millisecond: counted
  completed('T6', '2024-03-03T11:59:59.999Z'), // a millisecond before the done window
  completed('T5', '2024-03-03T12:00:00.000Z'), // the done window's first instant: done
  created('T8', '2024-03-05T00:00:00.000Z', 'u2', '2024-03-09T00:00:00.000Z'), // completed after asOf: open and overdue at asOf
  completed('T7', AS_OF), // completed at asOf: no longer open, and the done window ends before asOf
  created('T9', AS_OF, 'u3', '2024-03-12T00:00:00.000Z'), // created at asOf: open at asOf
  created('T10', '2024-03-10T12:00:00.001Z', 'u3', '2024-03-12T00:00:00.000Z'), // created after asOf
  completed('T8', '2024-03-11T00:00:00.000Z'),
];

const figures = (overdue: number, dueNext7Days: number, doneLast7Days: number) => ({ overdue, dueNext7Days, doneLast7Days });

describe('upcoming-activity report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [upcomingActivityProjection]);
  });
  afterAll(() => p.close());
  const run = (asOf: string) => upcomingActivityReport.run(reportParams({ asOf }), p.context);

  it('hand-computed per owner at a past asOf: overdue and due in the next 7 days (open at asOf), done in the last 7 days', async () => {
    expect(await run(AS_OF)).toEqual({
      asOf: AS_OF,
      doneFrom: '2024-03-03T12:00:00.000Z',
      dueTo: '2024-03-17T12:00:00.000Z',
      owners: [
        { ownerId: 'u1', ...figures(1, 2, 0) }, // T1 overdue; T2 (due at asOf) and T4 due; T3 due at the window's end
        { ownerId: 'u2', ...figures(1, 0, 1) }, // T8 open at asOf (completed later) and overdue; T5 done; T6 before; T7 at asOf
        { ownerId: 'u3', ...figures(0, 1, 0) }, // T9 created at asOf; T10 a millisecond after
        { ownerId: 'unassigned', ...figures(0, 1, 0) }, // T11 due March 15, 00:00
      ],
      totals: figures(2, 4, 1),
    });
  });

  it('a millisecond later, every boundary moves by one task', async () => {
    expect(await run('2024-03-10T12:00:00.001Z')).toEqual({
      asOf: '2024-03-10T12:00:00.001Z',
      doneFrom: '2024-03-03T12:00:00.001Z',
      dueTo: '2024-03-17T12:00:00.001Z',
      owners: [
        { ownerId: 'u1', ...figures(2, 2, 0) }, // T2 now overdue; T3 now due
        { ownerId: 'u2', ...figures(1, 0, 1) }, // T5 out of the done window, T7 in it
        { ownerId: 'u3', ...figures(0, 2, 0) }, // T10 created
        { ownerId: 'unassigned', ...figures(0, 1, 0) },
      ],
      totals: figures(3, 5, 1),
    });
    // After T8's completion: done, no longer overdue.
    const later = await run('2024-03-11T00:00:00.001Z');
    expect(later.owners.find((o) => o.ownerId === 'u2')).toEqual({ ownerId: 'u2', ...figures(0, 0, 2) }); // T7, T8 done
  });

  it('empty before any task, a task completed long ago only in its week, and now (every open task overdue)', async () => {
    expect(await run('2024-01-01T00:00:00.000Z')).toEqual({
      asOf: '2024-01-01T00:00:00.000Z',
      doneFrom: '2023-12-25T00:00:00.000Z',
      dueTo: '2024-01-08T00:00:00.000Z',
      owners: [],
      totals: figures(0, 0, 0),
    });
    expect((await run('2024-02-12T00:00:00.000Z')).owners).toEqual([{ ownerId: 'u4', ...figures(0, 0, 1) }]);
    // The default asOf (now): the open tasks, all due in 2024.
    const now = await upcomingActivityReport.run(reportParams(), p.context);
    expect(now.owners).toEqual([
      { ownerId: 'u1', ...figures(4, 0, 0) },
      { ownerId: 'u3', ...figures(2, 0, 0) },
      { ownerId: 'unassigned', ...figures(1, 0, 0) },
    ]);
    expect(now.totals).toEqual(figures(7, 0, 0));
  });

  it('tables: owners, the totals with asOf and the windows', async () => {
    const report = await run(AS_OF);
    expect(Object.keys(upcomingActivityReport.tables)).toEqual(['owners', 'totals']);
    expect(upcomingActivityReport.tables.owners(report)[0]).toEqual({ ownerId: 'u1', overdue: 1, dueNext7Days: 2, doneLast7Days: 0 });
    expect(upcomingActivityReport.tables.totals(report)).toEqual([
      {
        asOf: AS_OF,
        doneFrom: '2024-03-03T12:00:00.000Z',
        dueTo: '2024-03-17T12:00:00.000Z',
        overdue: 2,
        dueNext7Days: 4,
        doneLast7Days: 1,
      },
    ]);
  });
});

const event = (type: string, id: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `task-${id}`,
  type,
  occurredAt,
  data: { taskId: id, ...data },
});

/** Reassigned, re-dated and cancelled tasks (docs/reports.md): each change counts from its business time on. */
const changes: ScenarioEvent[] = [
  created('R1', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-12T00:00:00.000Z'),
  created('R2', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-20T00:00:00.000Z'),
  created('R3', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-12T00:00:00.000Z'),
  created('R4', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-05T00:00:00.000Z'),
  created('R5', '2024-03-01T00:00:00.000Z', 'u1', '2024-03-11T00:00:00.000Z'),
  event('TaskReassigned', 'R4', '2024-03-06T00:00:00.000Z', { ownerId: 'u3', previousOwnerId: 'u1' }),
  completed('R4', '2024-03-08T00:00:00.000Z'), // done for u3, its owner when completed
  event('TaskUpdated', 'R2', '2024-03-09T00:00:00.000Z', { dueAt: '2024-03-05', previousDueAt: '2024-03-20T00:00:00.000Z' }),
  event('TaskCancelled', 'R5', '2024-03-09T00:00:00.000Z'), // never done
  event('TaskReassigned', 'R1', AS_OF, { ownerId: 'u2', previousOwnerId: 'u1' }), // u2's from asOf on
  event('TaskCancelled', 'R3', AS_OF, { reason: 'duplicate' }), // no longer open at asOf
];

describe('upcoming-activity report: reassigned, re-dated and cancelled tasks', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(changes, [upcomingActivityProjection]);
  });
  afterAll(() => p.close());
  const owners = async (asOf: string) => {
    const report = await upcomingActivityReport.run(reportParams({ asOf }), p.context);
    expect(report).toEqual(upcomingActivityReference(p.events, asOf));
    return { owners: report.owners, totals: report.totals };
  };

  it('at asOf: a reassignment at asOf counts for the new owner, a cancellation at asOf is no longer open, a cancelled task is never done', async () => {
    expect(await owners(AS_OF)).toEqual({
      owners: [
        { ownerId: 'u1', ...figures(1, 0, 0) }, // R2 re-dated to March 5 on March 9: overdue
        { ownerId: 'u2', ...figures(0, 1, 0) }, // R1, reassigned at asOf
        { ownerId: 'u3', ...figures(0, 0, 1) }, // R4, completed after its reassignment
      ],
      totals: figures(1, 1, 1),
    });
  });

  it('a millisecond before asOf: R1 still u1’s, R3 still open', async () => {
    expect(await owners('2024-03-10T11:59:59.999Z')).toEqual({
      owners: [
        { ownerId: 'u1', ...figures(1, 2, 0) }, // R2 overdue; R1 and R3 due
        { ownerId: 'u3', ...figures(0, 0, 1) },
      ],
      totals: figures(1, 2, 1),
    });
  });

  it('before the changes: the old due date, the old owner, the cancelled task still open', async () => {
    // March 8, R4's completion instant: no longer open, not yet in the done window; R2 still due March 20 (outside the window); R5 open.
    expect(await owners('2024-03-08T00:00:00.000Z')).toEqual({
      owners: [{ ownerId: 'u1', ...figures(0, 3, 0) }],
      totals: figures(0, 3, 0),
    });
    // March 7: R4 overdue for u3 (reassigned on March 6).
    expect((await owners('2024-03-07T00:00:00.000Z')).owners).toEqual([
      { ownerId: 'u1', ...figures(0, 3, 0) },
      { ownerId: 'u3', ...figures(1, 0, 0) },
    ]);
    // A millisecond before the reassignment: R4 overdue for u1.
    expect((await owners('2024-03-05T23:59:59.999Z')).owners).toEqual([{ ownerId: 'u1', ...figures(1, 3, 0) }]);
  });

  it('an owner filter counts a task for the owner it had at the instant', async () => {
    const u1 = await upcomingActivityReport.run(reportParams({ asOf: '2024-03-10T11:59:59.999Z', owner: 'u1' }), p.context);
    expect(u1.totals).toEqual(figures(1, 2, 0));
    const u2 = await upcomingActivityReport.run(reportParams({ asOf: AS_OF, owner: 'u2' }), p.context);
    expect(u2.totals).toEqual(figures(0, 1, 0));
  });
});

describe('upcoming-activity report = a fold of the raw events (property)', () => {
  it('matches for random histories and instants (around task creations, completions and due times, to the millisecond)', async () => {
    const DAY = 86_400_000;
    const seen = { overdue: 0, due: 0, done: 0, completedLater: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-1, 0, 1, DAY, 3 * DAY, -3 * DAY, 7 * DAY)), {
          minLength: 9,
          maxLength: 9,
        }),
        async (history, picks) => {
          const p = await project(history, [upcomingActivityProjection]);
          try {
            // Instants where the figures change: task creations, due times and completions (any event's when there are none).
            const created = p.events.filter((e) => e.type === 'TaskCreated');
            const lists = [
              created.map((e) => Date.parse(e.occurredAt)),
              created.map((e) => Date.parse((e.data as { dueAt: string }).dueAt)),
              p.events.filter((e) => e.type === 'TaskCompleted').map((e) => Date.parse(e.occurredAt)),
            ].map((list) => (list.length > 0 ? list : p.events.map((e) => Date.parse(e.occurredAt))));
            const createdAt = new Map(created.map((e) => [(e.data as { taskId: string }).taskId, Date.parse(e.occurredAt)]));
            const completions = p.events
              .filter((e) => e.type === 'TaskCompleted')
              .map((e) => [createdAt.get((e.data as { taskId: string }).taskId)!, Date.parse(e.occurredAt)]);
            const instants = picks.map(([x, offset], i) => {
              const list = lists[i % 3];
              return new Date(list[Math.floor(x * (list.length - 1))] + offset).toISOString();
            });
            for (const asOf of [...instants, '2023-12-31T00:00:00.000Z', new Date().toISOString()]) {
              const served = await upcomingActivityReport.run(reportParams({ asOf }), p.context);
              expect(served).toEqual(upcomingActivityReference(p.events, asOf));
              if (served.totals.overdue > 0) seen.overdue += 1;
              if (served.totals.dueNext7Days > 0) seen.due += 1;
              if (served.totals.doneLast7Days > 0) seen.done += 1;
              // Exact for a past asOf: tasks open then, completed since, are among the ones counted.
              const asOfMs = Date.parse(asOf);
              if (completions.some(([createdMs, completedMs]) => createdMs <= asOfMs && asOfMs < completedMs)) seen.completedLater += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 71 },
    );
    // Not vacuous: every figure is often non-zero.
    expect(seen.overdue).toBeGreaterThan(80);
    expect(seen.due).toBeGreaterThan(40);
    expect(seen.done).toBeGreaterThan(40);
    expect(seen.completedLater).toBeGreaterThan(40);
  }, 120_000);

  it('matches for random histories with edits, reassignments and cancellations, around each change to the millisecond', async () => {
    const seen = { changed: 0, cancelled: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, taskChanges: true }),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-1, 0, 1)), { minLength: 8, maxLength: 8 }),
        async (history, picks) => {
          const p = await project(history, [upcomingActivityProjection]);
          try {
            const changed = p.events.filter((e) => ['TaskUpdated', 'TaskReassigned', 'TaskCancelled'].includes(e.type));
            const times = (changed.length > 0 ? changed : p.events).map((e) => Date.parse(e.occurredAt));
            const dues = changed.flatMap((e) =>
              (e.data as { dueAt?: string }).dueAt ? [Date.parse((e.data as { dueAt: string }).dueAt)] : [],
            );
            const instants = picks.map(([x, offset], i) => {
              const list = i % 2 === 0 || dues.length === 0 ? times : dues;
              return new Date(list[Math.floor(x * (list.length - 1))] + offset).toISOString();
            });
            for (const asOf of instants) {
              const served = await upcomingActivityReport.run(reportParams({ asOf }), p.context);
              expect(served).toEqual(upcomingActivityReference(p.events, asOf));
            }
            if (changed.some((e) => e.type !== 'TaskCancelled')) seen.changed += 1;
            if (changed.some((e) => e.type === 'TaskCancelled')) seen.cancelled += 1;
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 20, seed: 72 },
    );
    expect(seen.changed).toBeGreaterThan(10);
    expect(seen.cancelled).toBeGreaterThan(10);
  }, 120_000);
});
