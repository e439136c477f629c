import fc from 'fast-check';
import { ERASED, InvalidInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, unmergeEvents } from '../testing/merge';
import { historyArbitrary } from '../testing/random-history';
import { tasksProjection } from './projection';
import { getTask, listTasks, ListTasksParams, TaskView } from './query';

const taskId = (n: number) => `70000000-0000-4000-8000-00000000000${n}`;
const C1 = 'c1000000-0000-4000-8000-000000000001';
const D1 = 'd1000000-0000-4000-8000-000000000001';
const task = (n: number, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `task-${taskId(n)}`,
  type,
  data: { taskId: taskId(n), ...data },
  occurredAt,
});
const created = (n: number, occurredAt: string, data: Record<string, unknown>) =>
  task(n, 'TaskCreated', occurredAt, { subject: `Task ${n}`, ownerId: 'u1', ...data });

describe('tasks projection', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('creates and completes tasks', async () => {
    p = await project(
      [created(1, '2024-01-01T00:00:00.000Z', { dueAt: '2024-01-05T09:00:00.000Z', customerId: C1, dealId: D1 })],
      [tasksProjection],
    );
    const open: TaskView = {
      id: taskId(1),
      ownerId: 'u1',
      subject: 'Task 1',
      dueAt: '2024-01-05T09:00:00.000Z',
      customerId: C1,
      dealId: D1,
      leadId: null,
      status: 'open',
      createdAt: '2024-01-01T00:00:00.000Z',
      completedAt: null,
      outcome: null,
      cancelledAt: null,
      cancelReason: null,
      reason: null,
    };
    expect(await getTask(p.readModels, taskId(1))).toEqual(open);
    await appendAndProject(p, [task(1, 'TaskCompleted', '2024-01-04T00:00:00.000Z', { outcome: 'called back' })]);
    expect(await getTask(p.readModels, taskId(1))).toEqual({
      ...open,
      status: 'completed',
      completedAt: '2024-01-04T00:00:00.000Z',
      outcome: 'called back',
    });
    expect(await getTask(p.readModels, 'no-such-task')).toBeNull();
  });

  it('shows edits, reassignments and cancellations: subject, due date, owner, status and counts', async () => {
    p = await project(
      [
        created(1, '2024-01-01T00:00:00.000Z', { dueAt: '2024-01-05T09:00:00.000Z', customerId: C1 }),
        created(2, '2024-01-01T00:00:00.000Z', { dueAt: '2024-01-06T09:00:00.000Z' }),
        task(1, 'TaskUpdated', '2024-01-02T00:00:00.000Z', { subject: 'Call again', customerId: C1 }),
        task(1, 'TaskUpdated', '2024-01-02T01:00:00.000Z', {
          dueAt: '2024-01-04T10:00:00+02:00',
          previousDueAt: '2024-01-05T09:00:00.000Z',
        }),
        task(1, 'TaskReassigned', '2024-01-03T00:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }),
        task(2, 'TaskCancelled', '2024-01-03T00:00:00.000Z', { reason: 'duplicate' }),
      ],
      [tasksProjection],
    );
    expect(await getTask(p.readModels, taskId(1))).toMatchObject({
      subject: 'Call again',
      dueAt: '2024-01-04T08:00:00.000Z',
      ownerId: 'u2',
      status: 'open',
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    expect(await getTask(p.readModels, taskId(2))).toMatchObject({
      status: 'cancelled',
      cancelledAt: '2024-01-03T00:00:00.000Z',
      cancelReason: 'duplicate',
      completedAt: null,
      ownerId: 'u1',
    });
    const ids = async (params: ListTasksParams) => {
      const page = await listTasks(p.readModels, params);
      return { ids: page.items.map((t) => Number(t.id.slice(-1))), total: page.total };
    };
    expect(await ids({ status: 'open' })).toEqual({ ids: [1], total: 1 });
    expect(await ids({ status: 'cancelled' })).toEqual({ ids: [2], total: 1 });
    expect(await ids({ ownerId: 'u1' })).toEqual({ ids: [2], total: 1 });
    expect(await ids({ ownerId: 'u2', status: 'open', dueBefore: '2024-01-04T08:00:01Z' })).toEqual({ ids: [1], total: 1 });
    expect(await ids({ ownerId: 'u2', status: 'open', dueBefore: '2024-01-04T08:00:00Z' })).toEqual({ ids: [], total: 0 });
    // The edited subject is the person's too: erased with them.
    await appendAndProject(p, [
      { streamId: `customer-${C1}`, type: 'CustomerPersonalDataErased', data: { customerId: C1 }, occurredAt: '2024-02-01T00:00:00.000Z' },
    ]);
    expect((await getTask(p.readModels, taskId(1)))!.subject).toBe(ERASED);
  });

  it('lists by owner, status, customer, deal and due time, soonest due first by default', async () => {
    p = await project(
      [
        created(1, '2024-01-01T00:00:00.000Z', { dueAt: '2024-01-10T09:00:00.000Z', customerId: C1 }),
        created(2, '2024-01-02T00:00:00.000Z', { dueAt: '2024-01-03T09:00:00.000Z', ownerId: 'u2' }),
        created(3, '2024-01-03T00:00:00.000Z', { dueAt: '2024-01-05T09:00:00.000Z', customerId: C1, dealId: D1 }),
        created(4, '2024-01-04T00:00:00.000Z', { dueAt: '2024-01-05T09:00:00.000Z' }),
        // a date-time with an offset is stored as UTC, so ranges compare instants
        created(5, '2024-01-05T00:00:00.000Z', { dueAt: '2024-01-05T10:00:00+02:00' }),
        task(3, 'TaskCompleted', '2024-01-05T00:00:00.000Z'),
      ],
      [tasksProjection],
    );
    expect((await getTask(p.readModels, taskId(5)))!.dueAt).toBe('2024-01-05T08:00:00.000Z');
    const list = async (params: ListTasksParams) => {
      const page = await listTasks(p.readModels, params);
      return { ids: page.items.map((t) => Number(t.id.slice(-1))), total: page.total, limit: page.limit, offset: page.offset };
    };
    expect(await list({})).toEqual({ ids: [2, 5, 3, 4, 1], total: 5, limit: 50, offset: 0 });
    expect(await list({ sort: '-dueAt', limit: 2, offset: 1 })).toEqual({ ids: [3, 4], total: 5, limit: 2, offset: 1 });
    expect(await list({ sort: '-createdAt' })).toEqual({ ids: [5, 4, 3, 2, 1], total: 5, limit: 50, offset: 0 });
    expect(await list({ ownerId: 'u1', status: 'open' })).toEqual({ ids: [5, 4, 1], total: 3, limit: 50, offset: 0 });
    expect(await list({ status: 'completed' })).toEqual({ ids: [3], total: 1, limit: 50, offset: 0 });
    expect(await list({ customerId: C1 })).toEqual({ ids: [3, 1], total: 2, limit: 50, offset: 0 });
    expect(await list({ dealId: D1, status: 'open' })).toEqual({ ids: [], total: 0, limit: 50, offset: 0 });
    expect(await list({ dueBefore: '2024-01-05T09:00:00Z' })).toEqual({ ids: [2, 5], total: 2, limit: 50, offset: 0 });
    expect(await list({ dueBefore: '2024-01-05T12:00:00+02:00', status: 'open' })).toEqual({
      ids: [2, 5, 4],
      total: 3,
      limit: 50,
      offset: 0,
    });
    for (const bad of [{ dueBefore: 'tomorrow' }, { status: 'done' }, { sort: 'subject' }]) {
      await expect(listTasks(p.readModels, bad)).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});

describe('tasks projection and erasure', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('rewrites the subject and outcome of every task about the erased customer or lead; other tasks keep theirs', async () => {
    const L1 = 'l1000000-0000-4000-8000-000000000001';
    p = await project(
      [
        created(1, '2024-01-01T00:00:00.000Z', {
          dueAt: '2024-01-05T09:00:00.000Z',
          customerId: C1,
          dealId: D1,
          subject: 'Call Ada Lovelace',
        }),
        created(2, '2024-01-02T00:00:00.000Z', { dueAt: '2024-01-06T09:00:00.000Z', dealId: D1, subject: 'Review the pricing' }),
        created(3, '2024-01-03T00:00:00.000Z', { dueAt: '2024-01-07T09:00:00.000Z', customerId: C1, subject: 'Send Ada the contract' }),
        created(4, '2024-01-04T00:00:00.000Z', { dueAt: '2024-01-08T09:00:00.000Z', leadId: L1, subject: 'Email Grace Hopper' }),
        task(1, 'TaskCompleted', '2024-01-05T00:00:00.000Z', { outcome: 'ada@engines.example answered', customerId: C1 }),
        // completed before outcomes named the person (an older event): still found through its task
        task(3, 'TaskCompleted', '2024-01-06T00:00:00.000Z', { outcome: 'Ada signed' }),
      ],
      [tasksProjection],
    );
    const subjects = async () => (await listTasks(p.readModels, { sort: 'createdAt' })).items.map((t) => [t.subject, t.outcome]);
    await appendAndProject(p, [
      { streamId: `customer-${C1}`, type: 'CustomerPersonalDataErased', data: { customerId: C1 }, occurredAt: '2024-02-01T00:00:00.000Z' },
    ]);
    expect(await subjects()).toEqual([
      [ERASED, ERASED],
      ['Review the pricing', null],
      [ERASED, ERASED],
      ['Email Grace Hopper', null],
    ]);
    expect(await getTask(p.readModels, taskId(1))).toMatchObject({
      customerId: C1,
      dealId: D1,
      status: 'completed',
      dueAt: '2024-01-05T09:00:00.000Z',
    });
    expect(await getTask(p.readModels, taskId(1))).not.toHaveProperty('previousPersonal');
    await appendAndProject(p, [
      { streamId: `lead-${L1}`, type: 'LeadPersonalDataErased', data: { leadId: L1 }, occurredAt: '2024-02-02T00:00:00.000Z' },
    ]);
    expect((await getTask(p.readModels, taskId(4)))!.subject).toBe(ERASED);
    expect((await getTask(p.readModels, taskId(2)))!.subject).toBe('Review the pricing');
  });
});

function foldTasks(events: RecordedEvent[]): TaskView[] {
  const tasks = new Map<string, TaskView>();
  for (const e of events) {
    const d = e.data as Record<string, any>;
    if (e.type === 'TaskCreated') {
      tasks.set(d.taskId, {
        id: d.taskId,
        ownerId: d.ownerId,
        subject: d.subject,
        dueAt: new Date(d.dueAt).toISOString(),
        customerId: d.customerId ?? null,
        dealId: d.dealId ?? null,
        leadId: d.leadId ?? null,
        status: 'open',
        createdAt: e.occurredAt,
        completedAt: null,
        outcome: null,
        cancelledAt: null,
        cancelReason: null,
        reason: d.reason ?? null,
      });
    } else if (e.type === 'TaskCompleted') {
      Object.assign(tasks.get(d.taskId)!, { status: 'completed', completedAt: e.occurredAt, outcome: d.outcome ?? null });
    } else if (e.type === 'TaskUpdated') {
      const t = tasks.get(d.taskId)!;
      if (d.subject !== undefined) t.subject = d.subject;
      if (d.dueAt !== undefined) t.dueAt = new Date(d.dueAt).toISOString();
    } else if (e.type === 'TaskReassigned') {
      tasks.get(d.taskId)!.ownerId = d.ownerId;
    } else if (e.type === 'TaskCancelled') {
      Object.assign(tasks.get(d.taskId)!, { status: 'cancelled', cancelledAt: e.occurredAt, cancelReason: d.reason ?? null });
    }
  }
  return [...tasks.values()];
}

describe('tasks list = a fold of the raw events (property)', () => {
  it('matches for random histories and several filter, sort and page combinations', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 120, maxSteps: 200, taskChanges: true }), async (scenario) => {
        const p = await project(scenario, [tasksProjection]);
        try {
          const tasks = foldTasks(p.events);
          const dues = tasks.map((t) => t.dueAt).sort();
          const middle = dues[dues.length >> 1] ?? '2024-06-01T00:00:00.000Z';
          const customerId = tasks.find((t) => t.customerId)?.customerId ?? 'none';
          const combos: ListTasksParams[] = [
            {},
            { ownerId: 'u1', status: 'open' },
            { status: 'completed', sort: '-dueAt', limit: 2, offset: 1 },
            { status: 'cancelled', ownerId: 'u2' },
            { dueBefore: middle, status: 'open' },
            { customerId, sort: '-createdAt' },
            { ownerId: 'u3', dueBefore: middle, sort: 'createdAt' },
          ];
          for (const params of combos) {
            const sort = params.sort ?? 'dueAt';
            const field = sort.replace('-', '') as 'dueAt' | 'createdAt';
            const dir = sort.startsWith('-') ? -1 : 1;
            const cmp = (a: TaskView, b: TaskView) => (a[field] !== b[field] ? (a[field] < b[field] ? -dir : dir) : a.id < b.id ? -1 : 1);
            const matching = tasks
              .filter((t) => (!params.ownerId || t.ownerId === params.ownerId) && (!params.status || t.status === params.status))
              .filter(
                (t) =>
                  (!params.customerId || t.customerId === params.customerId) &&
                  (!params.dueBefore || Date.parse(t.dueAt) < Date.parse(params.dueBefore)),
              )
              .sort(cmp);
            const page = await listTasks(p.readModels, params);
            const offset = params.offset ?? 0;
            expect(page.total).toBe(matching.length);
            expect(page.items).toEqual(matching.slice(offset, offset + (params.limit ?? 50)));
          }
        } finally {
          await p.close();
        }
      }),
      { numRuns: 20, seed: 3 },
    );
  });
});

describe('tasks of merged customers (docs/merging.md)', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("lists the merged customer's tasks under the survivor while merged, its own list unchanged; the unmerge puts it back", async () => {
    const [M, S, O] = [C1, 'c2000000-0000-4000-8000-000000000002', 'c3000000-0000-4000-8000-000000000003'];
    p = await project(
      [
        created(1, '2024-01-01T00:00:00.000Z', { dueAt: '2024-01-11T09:00:00.000Z', customerId: S }),
        created(2, '2024-01-02T00:00:00.000Z', { dueAt: '2024-01-12T09:00:00.000Z', customerId: M }),
        created(3, '2024-01-03T00:00:00.000Z', { dueAt: '2024-01-13T09:00:00.000Z', customerId: O }),
        created(4, '2024-01-04T00:00:00.000Z', { dueAt: '2024-01-10T09:00:00.000Z', customerId: M, ownerId: 'u2' }),
        created(5, '2024-01-05T00:00:00.000Z', { dueAt: '2024-01-09T09:00:00.000Z' }),
        task(1, 'TaskCompleted', '2024-01-06T00:00:00.000Z'),
      ],
      [tasksProjection],
    );
    const list = async (params: ListTasksParams) => {
      const page = await listTasks(p.readModels, params);
      return { ids: page.items.map((t) => Number(t.id.slice(-1))), total: page.total };
    };
    expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
    expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });

    await appendAndProject(p, mergeEvents(M, S, '2024-02-01T00:00:00.000Z'));
    expect(await list({ customerId: S })).toEqual({ ids: [4, 1, 2], total: 3 }); // soonest due first
    expect(await list({ customerId: S, status: 'open' })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: S, ownerId: 'u2' })).toEqual({ ids: [4], total: 1 });
    expect(await list({ customerId: S, status: 'open', dueBefore: '2024-01-12T00:00:00Z' })).toEqual({ ids: [4], total: 1 });
    expect(await list({ customerId: S, sort: '-createdAt', limit: 2, offset: 1 })).toEqual({ ids: [2, 1], total: 3 });
    // the merged customer's tasks keep their customer: its own list, and the others', as they were
    expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: O })).toEqual({ ids: [3], total: 1 });
    expect((await getTask(p.readModels, taskId(2)))!.customerId).toBe(M);
    expect(await list({})).toEqual({ ids: [5, 4, 1, 2, 3], total: 5 });

    // the merged customer's tasks go on changing while merged: they count for the survivor
    await appendAndProject(p, [
      task(2, 'TaskCompleted', '2024-02-05T00:00:00.000Z', { customerId: M }),
      task(4, 'TaskCancelled', '2024-02-06T00:00:00.000Z', { reason: 'duplicate' }),
      task(3, 'TaskCompleted', '2024-02-07T00:00:00.000Z', { customerId: O }),
    ]);
    expect(await list({ customerId: S, status: 'completed' })).toEqual({ ids: [1, 2], total: 2 });
    expect(await list({ customerId: S, status: 'cancelled' })).toEqual({ ids: [4], total: 1 });
    expect(await list({ customerId: S, status: 'open' })).toEqual({ ids: [], total: 0 });
    expect(await list({ customerId: M, status: 'completed' })).toEqual({ ids: [2], total: 1 });

    // unmerged: the survivor lists its own again; what was recorded while merged stays the merged customer's
    await appendAndProject(p, unmergeEvents(M, S, '2024-03-01T00:00:00.000Z'));
    expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
    expect(await list({ customerId: S, status: 'completed' })).toEqual({ ids: [1], total: 1 });
    expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: M, status: 'cancelled' })).toEqual({ ids: [4], total: 1 });

    // merged again, into another survivor: listed there only
    await appendAndProject(p, mergeEvents(M, O, '2024-04-01T00:00:00.000Z'));
    expect(await list({ customerId: O })).toEqual({ ids: [4, 2, 3], total: 3 });
    expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
    await appendAndProject(p, unmergeEvents(M, O, '2024-05-01T00:00:00.000Z'));
    expect(await list({ customerId: O })).toEqual({ ids: [3], total: 1 });
  });
});

describe('tasks lists after a merge = the asMerged history, after the unmerge = the history (property)', () => {
  const combos = (customerId: string): ListTasksParams[] => [
    { customerId },
    { customerId, status: 'open' },
    { customerId, status: 'completed', sort: '-dueAt' },
    { customerId, status: 'cancelled', sort: 'createdAt' },
    { customerId, ownerId: 'u1', limit: 3, offset: 1 },
    { customerId, dueBefore: '2024-03-01T00:00:00.000Z', sort: '-createdAt' },
  ];
  const lists = async (p: Projected, params: ListTasksParams[]) => Promise.all(params.map((q) => listTasks(p.readModels, q)));

  it("lists the survivor's tasks and its merged customer's, including events after the merge; the unmerge restores every list", async () => {
    let merged = 0;
    let whileMerged = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 80, maxSteps: 160, taskChanges: true }),
        fc.nat(),
        fc.integer({ min: 20, max: 100 }),
        async (history, pick, percent) => {
          // The merge comes after the first part of the history; the rest follows while merged, less the
          // merged customer's own stream (refused while merged), so its tasks go on changing and closing.
          const split = Math.floor((history.length * percent) / 100);
          const first = history.slice(0, split);
          const pair = mergePair(first, pick);
          if (!pair) return;
          const [mergedId, survivorId] = pair;
          const rest = history.slice(split).filter((e) => e.streamId !== `customer-${mergedId}`);
          const all = [...first, ...rest];
          const merge = mergeEvents(mergedId, survivorId, lastTimeOf(first));
          const [p, reference, unmerged] = [
            await project([...first, ...merge, ...rest], [tasksProjection]),
            await project(asMerged(all, mergedId, survivorId), [tasksProjection]),
            await project(all, [tasksProjection]),
          ];
          try {
            // The merged customer's tasks keep their customer (a task's customer never changes); asMerged renames it.
            const renamed = (pages: Awaited<ReturnType<typeof lists>>) =>
              pages.map((page) => ({
                ...page,
                items: page.items.map((t) => ({ ...t, customerId: t.customerId === mergedId ? survivorId : t.customerId })),
              }));
            const survivorLists = combos(survivorId);
            expect(renamed(await lists(p, survivorLists))).toEqual(await lists(reference, survivorLists));
            // The merged customer's own list is as it is without the merge ("listed as they are").
            expect(await lists(p, combos(mergedId))).toEqual(await lists(unmerged, combos(mergedId)));
            if ((await listTasks(p.readModels, { customerId: mergedId })).total > 0) merged += 1;
            const mergedTasks = new Set(
              all.filter((e) => e.type === 'TaskCreated' && e.data.customerId === mergedId).map((e) => e.streamId),
            );
            if (rest.some((e) => mergedTasks.has(e.streamId) && e.type !== 'TaskCreated')) whileMerged += 1;

            await appendAndProject(p, unmergeEvents(mergedId, survivorId, lastTimeOf(all)));
            const every = [...survivorLists, ...combos(mergedId), {}];
            expect(await lists(p, every)).toEqual(await lists(unmerged, every));
          } finally {
            await Promise.all([p.close(), reference.close(), unmerged.close()]);
          }
        },
      ),
      { numRuns: 15, seed: 2913 },
    );
    expect(merged).toBeGreaterThan(3);
    expect(whileMerged).toBeGreaterThan(1);
  });
});
