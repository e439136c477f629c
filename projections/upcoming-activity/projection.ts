import { parseIsoDateTime } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Tasks with their history, for the upcoming-activity report (docs/reports.md): one document per
 * task, kept for good, with its creation time, its owner and due date over time (TaskCreated, then
 * each TaskReassigned and TaskUpdated with a due date, at its business time) and the time it was
 * closed (TaskCompleted or TaskCancelled), so that the tasks open at any past `asOf`, their owner
 * and their due date then are known exactly. Times are epoch milliseconds.
 *
 * No personal text is kept (no subject, no outcome), so erasure has nothing to rewrite.
 */
export const UPCOMING_ACTIVITY_PROJECTION = 'upcoming-activity';
export const NO_OWNER = 'unassigned';
/**
 * `until` of a task still open: after every closing time, so that "open at t" (`until > t`) and
 * "closed in [a, b)" (`a ≤ until < b`, b before it) are both one range on the `until` index.
 */
export const STILL_OPEN = 8_640_000_000_000_000;

/** From `from` on (epoch ms), the task is `ownerId`'s and due at `due`: [from, ownerId, due]. */
export type UpcomingSpan = [number, string, number];

export interface UpcomingTaskDocument {
  _id: string;
  /** TaskCreated.occurredAt. */
  created: number;
  /**
   * The owner and due date from each change on, in business-time order (the decider refuses a
   * change dated before the previous one); the first from TaskCreated, at `created`. An empty owner
   * is `unassigned`; a due date alone is its UTC midnight, a time without offset is UTC, as the domain reads it.
   */
  spans: UpcomingSpan[];
  /** The earliest due date of all spans: what the open-task query filters on (a superset, narrowed in memory). */
  due: number;
  /** TaskCompleted.occurredAt or TaskCancelled.occurredAt, or STILL_OPEN. */
  until: number;
  /** Closed by TaskCancelled: not done, so never in `doneLast7Days`. */
  cancelled?: boolean;
  [key: string]: unknown;
}

/** The span in effect at `ms` (the last one from at or before it; the first one before `created`). */
export function spanAt(task: Pick<UpcomingTaskDocument, 'spans'>, ms: number): { ownerId: string; due: number } {
  let span = task.spans[0];
  for (const s of task.spans) if (s[0] <= ms) span = s;
  return { ownerId: span[1], due: span[2] };
}

/** A due date as the projection keeps it; one the decider would refuse (never stored) is never due. */
const dueMs = (dueAt: string): number => {
  const due = parseIsoDateTime(dueAt);
  return Number.isNaN(due) ? STILL_OPEN : due;
};

/** A change of owner or due date from `at` on: a new span (stable: a change at the same instant as an earlier one follows it). */
async function change(
  ctx: ProjectionContext,
  taskId: string,
  at: string,
  next: (current: { ownerId: string; due: number }) => UpcomingSpan,
): Promise<void> {
  const task = await ctx.get<UpcomingTaskDocument>('tasks', taskId);
  // Every task stream starts with TaskCreated; the decider refuses changes to a closed task.
  if (!task || task.until !== STILL_OPEN) return;
  const ms = Date.parse(at);
  const span = next(spanAt(task, ms));
  const spans = [...task.spans, span].sort((a, b) => a[0] - b[0]);
  ctx.put<UpcomingTaskDocument>('tasks', { ...task, spans, due: Math.min(task.due, span[2]) });
}

export const upcomingActivityProjection = defineProjection({
  name: UPCOMING_ACTIVITY_PROJECTION,
  // 2: owner and due date over time (TaskReassigned, TaskUpdated), cancelled tasks (TaskCancelled).
  version: 2,
  collections: ['tasks'],
  indexes: { tasks: ['until'] },
  on: {
    TaskCreated({ data: d, occurredAt }, ctx) {
      const created = Date.parse(occurredAt);
      const due = dueMs(d.dueAt);
      ctx.put<UpcomingTaskDocument>('tasks', {
        _id: d.taskId,
        created,
        spans: [[created, d.ownerId || NO_OWNER, due]],
        due,
        until: STILL_OPEN,
      });
    },
    TaskReassigned({ data: d, occurredAt }, ctx) {
      return change(ctx, d.taskId, occurredAt, (now) => [Date.parse(occurredAt), d.ownerId || NO_OWNER, now.due]);
    },
    TaskUpdated({ data: d, occurredAt }, ctx) {
      const dueAt = d.dueAt;
      if (dueAt === undefined) return; // a new subject alone changes no figure
      return change(ctx, d.taskId, occurredAt, (now) => [Date.parse(occurredAt), now.ownerId, dueMs(dueAt)]);
    },
    TaskCompleted: close,
    TaskCancelled: close,
  },
});

/** A task closed, done or cancelled: no longer open from `occurredAt` on. */
async function close(event: ProjectedEvent<'TaskCompleted' | 'TaskCancelled'>, ctx: ProjectionContext): Promise<void> {
  const task = await ctx.get<UpcomingTaskDocument>('tasks', event.data.taskId);
  // Every task stream starts with TaskCreated; the decider refuses to close a task twice.
  if (!task || task.until !== STILL_OPEN) return;
  const closed: UpcomingTaskDocument = { ...task, until: Date.parse(event.occurredAt) };
  if (event.type === 'TaskCancelled') closed.cancelled = true;
  ctx.put<UpcomingTaskDocument>('tasks', closed);
}

/**
 * The tasks open at `asOfMs` (created at or before it, not closed at or before it) that may be due
 * before `dueBeforeMs` (some span due before it: the caller checks the span at asOf), and the tasks
 * completed in [doneFromMs, asOfMs), cancelled ones left out: two ranges on `until`.
 */
export async function readUpcomingTasks(
  access: ReadModelAccess,
  asOfMs: number,
  dueBeforeMs: number,
  doneFromMs: number,
): Promise<{ open: UpcomingTaskDocument[]; done: UpcomingTaskDocument[] }> {
  const tasks = await access.collection<UpcomingTaskDocument>(UPCOMING_ACTIVITY_PROJECTION, 'tasks');
  const [open, closed] = await Promise.all([
    tasks.find({ until: { $gt: asOfMs }, created: { $lte: asOfMs }, due: { $lt: dueBeforeMs } }),
    tasks.find({ until: { $gte: doneFromMs, $lt: asOfMs } }),
  ]);
  return { open, done: closed.filter((t) => !t.cancelled) };
}
