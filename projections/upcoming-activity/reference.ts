import { parseIsoDateTime } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { UpcomingActivityReport, UpcomingFigures } from './query';

const DAY = 86_400_000;

/** The upcoming-activity report folded straight from the raw events, task by task (test oracle for docs/reports.md). */
export function upcomingActivityReference(events: RecordedEvent[], asOf: string): UpcomingActivityReport {
  const asOfMs = Date.parse(asOf);
  const tasks = new Map<string, { owner: string; created: number; due: number; completed: number | null }>();
  for (const e of events) {
    const d = e.data as { taskId: string; ownerId: string; dueAt: string };
    if (e.type === 'TaskCreated')
      tasks.set(d.taskId, {
        owner: d.ownerId || 'unassigned',
        created: Date.parse(e.occurredAt),
        due: parseIsoDateTime(d.dueAt),
        completed: null,
      });
    const task = tasks.get(d.taskId);
    if (e.type === 'TaskCompleted' && task && task.completed === null) task.completed = Date.parse(e.occurredAt);
  }
  const figures = new Map<string, UpcomingFigures>();
  const totals: UpcomingFigures = { overdue: 0, dueNext7Days: 0, doneLast7Days: 0 };
  const add = (owner: string, figure: keyof UpcomingFigures) => {
    const f = figures.get(owner) ?? { overdue: 0, dueNext7Days: 0, doneLast7Days: 0 };
    f[figure] += 1;
    totals[figure] += 1;
    figures.set(owner, f);
  };
  for (const t of tasks.values()) {
    const openAtAsOf = t.created <= asOfMs && (t.completed === null || t.completed > asOfMs);
    if (openAtAsOf && t.due < asOfMs) add(t.owner, 'overdue');
    if (openAtAsOf && t.due >= asOfMs && t.due < asOfMs + 7 * DAY) add(t.owner, 'dueNext7Days');
    if (t.completed !== null && t.completed >= asOfMs - 7 * DAY && t.completed < asOfMs) add(t.owner, 'doneLast7Days');
  }
  return {
    asOf: new Date(asOfMs).toISOString(),
    doneFrom: new Date(asOfMs - 7 * DAY).toISOString(),
    dueTo: new Date(asOfMs + 7 * DAY).toISOString(),
    owners: [...figures.keys()].sort().map((ownerId) => ({ ownerId, ...figures.get(ownerId)! })),
    totals,
  };
}
