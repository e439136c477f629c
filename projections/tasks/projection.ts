import { ERASURE_OF, erasedFields, personOfTask } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { MERGES, mergeHandlers } from '../common/merges';
import { defineProjection, onEach, ProjectedEvent } from '../common/define-projection';
import { compositeKey, recount } from '../common/listing';

/** Every task, one document each (`tasks`). */
export const TASKS_PROJECTION = 'tasks';

export type TaskDocument = {
  _id: string;
  ownerId: string;
  subject: string;
  /** ISO 8601 UTC (normalised), so that `dueBefore` is a string range on an index. */
  dueAt: string;
  customerId: string | null;
  dealId: string | null;
  leadId: string | null;
  /** `cancelled`: closed without being done (TaskCancelled). */
  status: 'open' | 'completed' | 'cancelled';
  createdAt: string;
  completedAt: string | null;
  outcome: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  /** Why automation created it (a follow-up rule, a stalled deal); null for a task created by a user. */
  reason: string | null;
  /** `<status>|<dueAt>` (see compositeKey): "open tasks, soonest due first" is one index range. */
  statusDueAt: string;
  /** A task about a person: the id of the person's previous task (see PersonDocument), if any. */
  previousPersonal?: string;
};

/**
 * A customer or lead (`_id`: their stream id) and their last task: a task about a person holds
 * their personal text (subject, outcome), so each person's tasks are chained, newest first, for
 * erasure to find them (the projection context finds documents by id only).
 */
type PersonDocument = { _id: string; lastPersonal: string };

/** The composite field serving a status filter with the default sort. */
export const STATUS_SORT_FIELDS = { dueAt: 'statusDueAt' } as const;

/** Fields whose per-value counts `stats` keeps (see CountsDocument). */
export const COUNTED_FIELDS = ['status', 'ownerId'] as const;

const normalise = (iso: string): string => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString();
};

/** An erasure (any type of ERASURE_OF): the person's tasks keep everything but their text (subject, outcome). */
async function erase(event: ProjectedEvent, ctx: ProjectionContext): Promise<void> {
  const erasureOf = ERASURE_OF[event.type];
  if (!erasureOf) return;
  const person = await ctx.get<PersonDocument>('people', erasureOf(event.data as Record<string, unknown>));
  for (let id = person?.lastPersonal; id !== undefined;) {
    const task = await ctx.get<TaskDocument>('tasks', id);
    if (!task) return;
    ctx.put<TaskDocument>('tasks', { ...task, ...erasedFields({ subject: task.subject, outcome: task.outcome }) });
    id = task.previousPersonal;
  }
}

export const tasksProjection = defineProjection({
  name: TASKS_PROJECTION,
  // 3: tasks about a person are chained for erasure. 4: edits, reassignment and cancellation (TaskUpdated, TaskReassigned, TaskCancelled).
  // 5: totals by pair of counted fields (a list filtered on two of them).
  // 6: merged customers (CustomerMerged, CustomerUnmerged) in `merges`, for the survivor's filtered list.
  version: 6,
  collections: ['tasks', 'stats', 'people', MERGES],
  indexes: { tasks: ['ownerId', 'status', 'customerId', 'dealId', 'dueAt', 'createdAt', ...Object.values(STATUS_SORT_FIELDS)] },
  scrubAfter: Object.keys(ERASURE_OF),
  on: {
    async TaskCreated(event, ctx) {
      const d = event.data;
      const dueAt = normalise(d.dueAt);
      const doc: TaskDocument = {
        _id: d.taskId,
        ownerId: d.ownerId,
        subject: d.subject,
        dueAt,
        customerId: d.customerId ?? null,
        dealId: d.dealId ?? null,
        leadId: d.leadId ?? null,
        status: 'open',
        createdAt: event.occurredAt,
        completedAt: null,
        outcome: null,
        cancelledAt: null,
        cancelReason: null,
        reason: d.reason ?? null,
        statusDueAt: compositeKey('open', dueAt),
      };
      const person = personOfTask(d);
      if (person) {
        const previous = await ctx.get<PersonDocument>('people', person);
        if (previous) doc.previousPersonal = previous.lastPersonal;
        ctx.put<PersonDocument>('people', { _id: person, lastPersonal: d.taskId });
      }
      ctx.put<TaskDocument>('tasks', doc);
      return recount(ctx, 'stats', COUNTED_FIELDS, undefined, doc);
    },
    async TaskCompleted(event, ctx) {
      const d = event.data;
      const current = await ctx.get<TaskDocument>('tasks', d.taskId);
      if (!current) return; // every task stream starts with TaskCreated
      const doc: TaskDocument = {
        ...current,
        status: 'completed',
        completedAt: event.occurredAt,
        outcome: d.outcome ?? null,
        statusDueAt: compositeKey('completed', current.dueAt),
      };
      ctx.put<TaskDocument>('tasks', doc);
      return recount(ctx, 'stats', COUNTED_FIELDS, current, doc);
    },
    async TaskUpdated(event, ctx) {
      const d = event.data;
      const current = await ctx.get<TaskDocument>('tasks', d.taskId);
      if (!current) return;
      const dueAt = d.dueAt === undefined ? current.dueAt : normalise(d.dueAt);
      // A subject recorded after the person's erasure cannot be (the store refuses it): no re-erasure needed here.
      const subject = d.subject ?? current.subject;
      ctx.put<TaskDocument>('tasks', { ...current, subject, dueAt, statusDueAt: compositeKey(current.status, dueAt) });
    },
    async TaskReassigned(event, ctx) {
      const current = await ctx.get<TaskDocument>('tasks', event.data.taskId);
      if (!current) return;
      const doc: TaskDocument = { ...current, ownerId: event.data.ownerId };
      ctx.put<TaskDocument>('tasks', doc);
      return recount(ctx, 'stats', COUNTED_FIELDS, current, doc);
    },
    async TaskCancelled(event, ctx) {
      const current = await ctx.get<TaskDocument>('tasks', event.data.taskId);
      if (!current) return;
      const doc: TaskDocument = {
        ...current,
        status: 'cancelled',
        cancelledAt: event.occurredAt,
        cancelReason: event.data.reason ?? null,
        statusDueAt: compositeKey('cancelled', current.dueAt),
      };
      ctx.put<TaskDocument>('tasks', doc);
      return recount(ctx, 'stats', COUNTED_FIELDS, current, doc);
    },
    // A task's customer never changes: a merge only changes which customers `?customerId=` the survivor lists.
    ...mergeHandlers,
    ...onEach(Object.keys(ERASURE_OF), erase),
  },
});
