import fc from 'fast-check';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { ownerActivityProjection } from '../owner-activity/projection';
import { activityReport } from './query';
import { activityReference } from './reference';

let interactions = 0;
const interaction = (actor: string, occurredAt: string, type = 'call'): ScenarioEvent => ({
  streamId: 'customer-C1',
  type: 'InteractionLogged',
  occurredAt,
  actor,
  data: { customerId: 'C1', interactionId: `i${++interactions}`, type, direction: 'outbound', subject: 'touch' },
});
const task = (id: string, ownerId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `task-${id}`,
  type: 'TaskCreated',
  occurredAt,
  data: { taskId: id, ownerId, subject: 'Follow up', dueAt: occurredAt },
});
const done = (id: string, occurredAt: string, actor: string): ScenarioEvent => ({
  streamId: `task-${id}`,
  type: 'TaskCompleted',
  occurredAt,
  actor,
  data: { taskId: id },
});

const scenario: ScenarioEvent[] = [
  interaction('u1', '2024-02-02T00:00:00.000Z'),
  interaction('u1', '2024-02-03T00:00:00.000Z', 'email'),
  interaction('u1', '2024-02-04T23:59:59.999Z'), // Sunday's last millisecond
  interaction('u1', '2024-02-05T00:00:00.000Z'), // Monday: the next ISO week
  task('T1', 'u2', '2024-02-01T00:00:00.000Z'),
  done('T1', '2024-02-12T00:00:00.000Z', 'u2'),
  task('T2', 'u2', '2024-01-28T00:00:00.000Z'), // the week before the report
  done('T2', '2024-02-06T00:00:00.000Z', 'u1'), // completed by u1, but it is u2's task
  task('T3', 'u3', '2024-02-19T00:00:00.000Z'), // the week after
  {
    streamId: 'deal-D1',
    type: 'DealOpened',
    occurredAt: '2024-02-02T00:00:00.000Z',
    data: { dealId: 'D1', customerId: 'C1', title: 'D1', ownerId: 'u4', source: 'web', stage: 'qualification', amount: 10 },
  },
];

const zero = { interactions: 0, tasksCreated: 0, tasksCompleted: 0 };

describe('activity report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [ownerActivityProjection]);
  });
  afterAll(() => p.close());

  it('interactions and tasks per owner per ISO week; every owner of the report in every week', async () => {
    // from (a Thursday) is truncated to its Monday; interval does not apply.
    expect(
      await activityReport.run(
        reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-02-13T00:00:00.000Z', interval: 'month' }),
        p.context,
      ),
    ).toEqual({
      interval: 'week',
      periods: [
        {
          start: '2024-01-29T00:00:00.000Z',
          end: '2024-02-05T00:00:00.000Z',
          owners: [
            { ownerId: 'u1', interactions: 3, tasksCreated: 0, tasksCompleted: 0 },
            { ownerId: 'u2', interactions: 0, tasksCreated: 1, tasksCompleted: 0 },
          ],
          totals: { interactions: 3, tasksCreated: 1, tasksCompleted: 0 },
        },
        {
          start: '2024-02-05T00:00:00.000Z',
          end: '2024-02-12T00:00:00.000Z',
          owners: [
            { ownerId: 'u1', interactions: 1, tasksCreated: 0, tasksCompleted: 0 },
            { ownerId: 'u2', interactions: 0, tasksCreated: 0, tasksCompleted: 1 },
          ],
          totals: { interactions: 1, tasksCreated: 0, tasksCompleted: 1 },
        },
        {
          start: '2024-02-12T00:00:00.000Z',
          end: '2024-02-19T00:00:00.000Z',
          owners: [
            { ownerId: 'u1', ...zero },
            { ownerId: 'u2', interactions: 0, tasksCreated: 0, tasksCompleted: 1 },
          ],
          totals: { interactions: 0, tasksCreated: 0, tasksCompleted: 1 },
        },
      ],
      owners: [
        { ownerId: 'u1', interactions: 4, tasksCreated: 0, tasksCompleted: 0 },
        { ownerId: 'u2', interactions: 0, tasksCreated: 1, tasksCompleted: 2 },
      ],
      totals: { interactions: 4, tasksCreated: 1, tasksCompleted: 2 },
    });
  });

  it('lists weeks without activity with no owners', async () => {
    expect(await activityReport.run(reportParams({ from: '2023-12-31T12:00:00.000Z', to: '2024-01-02T00:00:00.000Z' }), p.context)).toEqual(
      {
        interval: 'week',
        periods: [
          { start: '2023-12-25T00:00:00.000Z', end: '2024-01-01T00:00:00.000Z', owners: [], totals: zero },
          { start: '2024-01-01T00:00:00.000Z', end: '2024-01-08T00:00:00.000Z', owners: [], totals: zero },
        ],
        owners: [],
        totals: zero,
      },
    );
  });
});

describe('activity report: reassigned and cancelled tasks', () => {
  const change = (type: string, id: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
    streamId: `task-${id}`,
    type,
    occurredAt,
    actor: 'manager',
    data: { taskId: id, ...data },
  });
  let p: Projected;
  beforeAll(async () => {
    p = await project(
      [
        task('R1', 'u1', '2024-02-05T00:00:00.000Z'),
        change('TaskReassigned', 'R1', '2024-02-06T00:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }),
        done('R1', '2024-02-07T00:00:00.000Z', 'u2'), // created by u1's count, completed for u2, its owner then
        task('R2', 'u1', '2024-02-05T00:00:00.000Z'),
        change('TaskCancelled', 'R2', '2024-02-06T00:00:00.000Z'), // created, never completed
        task('R3', 'u1', '2024-02-05T00:00:00.000Z'),
        change('TaskUpdated', 'R3', '2024-02-06T00:00:00.000Z', { dueAt: '2024-03-01', previousDueAt: '2024-02-05T00:00:00.000Z' }),
        done('R3', '2024-02-11T23:59:59.999Z', 'u1'), // an edit changes no owner: u1's
      ],
      [ownerActivityProjection],
    );
  });
  afterAll(() => p.close());

  it('a task is created for its owner then and completed for its owner at completion; a cancelled one is never completed', async () => {
    const params = reportParams({ from: '2024-02-05T00:00:00.000Z', to: '2024-02-12T00:00:00.000Z' });
    const report = await activityReport.run(params, p.context);
    expect(report.owners).toEqual([
      { ownerId: 'u1', interactions: 0, tasksCreated: 3, tasksCompleted: 1 },
      { ownerId: 'u2', interactions: 0, tasksCreated: 0, tasksCompleted: 1 },
    ]);
    expect(report.totals).toEqual({ interactions: 0, tasksCreated: 3, tasksCompleted: 2 });
    expect(report).toEqual(activityReference(p.events, params));
  });
});

describe('activity report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let withActivity = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [ownerActivityProjection]);
          try {
            for (const params of paramsList) {
              const served = await activityReport.run(params, p.context);
              expect(served).toEqual(activityReference(p.events, params));
              if (served.totals.tasksCompleted > 0 && served.totals.interactions > 0) withActivity += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 59 },
    );
    expect(withActivity).toBeGreaterThan(10);
  });

  it('matches for random histories with edits, reassignments and cancellations', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, taskChanges: true }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [ownerActivityProjection]);
          try {
            for (const params of paramsList)
              expect(await activityReport.run(params, p.context)).toEqual(activityReference(p.events, params));
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 60 },
    );
  });
});
