import { parseIsoDateTime } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { UpcomingActivityReport, UpcomingFigures } from './query';

const DAY = 86_400_000;

/** The upcoming-activity report folded straight from the raw events, task by task (test oracle for docs/reports.md). */
export function upcomingActivityReference(events: RecordedEvent[], asOf: string): UpcomingActivityReport {
  const asOfMs = Date.parse(asOf);
  type Change = { at: number; owner: string; due: number };
  const tasks = new Map<string, { created: number; changes: Change[]; closed: number | null; cancelled: boolean }>();
  for (const e of events) {
    const d = e.data as { taskId: string; ownerId: string; dueAt?: string };
    const at = Date.parse(e.occurredAt);
    if (e.type === 'TaskCreated')
      tasks.set(d.taskId, {
        created: at,
        changes: [{ at, owner: d.ownerId || 'unassigned', due: parseIsoDateTime(d.dueAt!) }],
        closed: null,
        cancelled: false,
      });
    const task = tasks.get(d.taskId);
    if (!task || task.closed !== null) continue;
    const last = task.changes[task.changes.length - 1];
    if (e.type === 'TaskReassigned') task.changes.push({ at, owner: d.ownerId || 'unassigned', due: last.due });
    if (e.type === 'TaskUpdated' && d.dueAt !== undefined) task.changes.push({ at, owner: last.owner, due: parseIsoDateTime(d.dueAt) });
    if (e.type === 'TaskCompleted' || e.type === 'TaskCancelled') {
      task.closed = at;
      task.cancelled = e.type === 'TaskCancelled';
    }
  }
  /** The owner and due date at `t`: the latest change at or before it (the creation's before it). */
  const at = (changes: Change[], t: number): Change => changes.filter((c) => c.at <= t).pop() ?? changes[0];
  const figures = new Map<string, UpcomingFigures>();
  const totals: UpcomingFigures = { overdue: 0, dueNext7Days: 0, doneLast7Days: 0 };
  const add = (owner: string, figure: keyof UpcomingFigures) => {
    const f = figures.get(owner) ?? { overdue: 0, dueNext7Days: 0, doneLast7Days: 0 };
    f[figure] += 1;
    totals[figure] += 1;
    figures.set(owner, f);
  };
  for (const t of tasks.values()) {
    const openAtAsOf = t.created <= asOfMs && (t.closed === null || t.closed > asOfMs);
    const now = at(t.changes, asOfMs);
    if (openAtAsOf && now.due < asOfMs) add(now.owner, 'overdue');
    if (openAtAsOf && now.due >= asOfMs && now.due < asOfMs + 7 * DAY) add(now.owner, 'dueNext7Days');
    if (t.closed !== null && !t.cancelled && t.closed >= asOfMs - 7 * DAY && t.closed < asOfMs)
      add(at(t.changes, t.closed).owner, 'doneLast7Days');
  }
  return {
    asOf: new Date(asOfMs).toISOString(),
    doneFrom: new Date(asOfMs - 7 * DAY).toISOString(),
    dueTo: new Date(asOfMs + 7 * DAY).toISOString(),
    owners: [...figures.keys()].sort().map((ownerId) => ({ ownerId, ...figures.get(ownerId)! })),
    totals,
  };
}
