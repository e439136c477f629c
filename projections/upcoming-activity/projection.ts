import { parseIsoDateTime } from '@chronicle/domain';
import { defineProjection } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Tasks with their history, for the upcoming-activity report (docs/reports.md): one document per
 * task, kept for good, with its owner, creation time, due time and completion time, so that the
 * tasks open at any past `asOf` are known exactly. Times are epoch milliseconds.
 *
 * Tasks have no reassignment or cancellation events (libs/domain/src/task: TaskCreated,
 * TaskCompleted): the owner is the one of TaskCreated for good, and only TaskCompleted closes a
 * task. No personal text is kept (no subject, no outcome), so erasure has nothing to rewrite.
 */
export const UPCOMING_ACTIVITY_PROJECTION = 'upcoming-activity';
export const NO_OWNER = 'unassigned';
/**
 * `until` of a task still open: after every completion time, so that "open at t" (`until > t`) and
 * "completed in [a, b)" (`a ≤ until < b`, b before it) are both one range on the `until` index.
 */
export const STILL_OPEN = 8_640_000_000_000_000;

export interface UpcomingTaskDocument {
  _id: string;
  /** TaskCreated.ownerId; `unassigned` when empty. */
  ownerId: string;
  /** TaskCreated.occurredAt. */
  created: number;
  /** TaskCreated.dueAt (a date alone is its UTC midnight, a time without offset is UTC, as the domain reads it). */
  due: number;
  /** TaskCompleted.occurredAt, or STILL_OPEN. */
  until: number;
  [key: string]: unknown;
}

export const upcomingActivityProjection = defineProjection({
  name: UPCOMING_ACTIVITY_PROJECTION,
  version: 1,
  collections: ['tasks'],
  indexes: { tasks: ['until'] },
  on: {
    TaskCreated({ data: d, occurredAt }, ctx) {
      const due = parseIsoDateTime(d.dueAt);
      ctx.put<UpcomingTaskDocument>('tasks', {
        _id: d.taskId,
        ownerId: d.ownerId || NO_OWNER,
        created: Date.parse(occurredAt),
        // The decider accepts only valid dates; one that is not (never stored) would never be due.
        due: Number.isNaN(due) ? STILL_OPEN : due,
        until: STILL_OPEN,
      });
    },
    async TaskCompleted({ data: d, occurredAt }, ctx) {
      const task = await ctx.get<UpcomingTaskDocument>('tasks', d.taskId);
      // Every task stream starts with TaskCreated; the decider refuses a second completion.
      if (!task || task.until !== STILL_OPEN) return;
      ctx.put<UpcomingTaskDocument>('tasks', { ...task, until: Date.parse(occurredAt) });
    },
  },
});

/**
 * The tasks open at `asOfMs` (created at or before it, not completed at or before it) that are due
 * before `dueBeforeMs`, and the tasks completed in [doneFromMs, asOfMs): two ranges on `until`.
 */
export async function readUpcomingTasks(
  access: ReadModelAccess,
  asOfMs: number,
  dueBeforeMs: number,
  doneFromMs: number,
): Promise<{ open: UpcomingTaskDocument[]; done: UpcomingTaskDocument[] }> {
  const tasks = await access.collection<UpcomingTaskDocument>(UPCOMING_ACTIVITY_PROJECTION, 'tasks');
  const [open, done] = await Promise.all([
    tasks.find({ until: { $gt: asOfMs }, created: { $lte: asOfMs }, due: { $lt: dueBeforeMs } }),
    tasks.find({ until: { $gte: doneFromMs, $lt: asOfMs } }),
  ]);
  return { open, done };
}
