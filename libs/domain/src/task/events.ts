import type { DomainEvent } from '../common/decider';

export type TaskCreated = DomainEvent<
  'TaskCreated',
  {
    taskId: string;
    ownerId: string;
    subject: string;
    dueAt: string;
    customerId?: string;
    dealId?: string;
    leadId?: string;
    reason?: string;
  }
>;
/**
 * With an outcome, the task's customer or lead (as on TaskCreated) comes along: the outcome is
 * free text about that person, sealed with their key (personal-data.ts). Absent on older events.
 */
export type TaskCompleted = DomainEvent<'TaskCompleted', { taskId: string; outcome?: string; customerId?: string; leadId?: string }>;
/**
 * An open task edited: only the fields that changed. A new due date comes with the one it replaces
 * (`previousDueAt`, as DealExpectedCloseDateChanged's `from`); a new subject does not carry the old
 * one (it is personal text, already on the earlier event). With a subject, the task's customer or
 * lead comes along, as on TaskCompleted: the subject is sealed with their key (personal-data.ts).
 */
export type TaskUpdated = DomainEvent<
  'TaskUpdated',
  { taskId: string; subject?: string; dueAt?: string; previousDueAt?: string; customerId?: string; leadId?: string }
>;
/** An open task closed without being done; it no longer counts as open from `occurredAt` on. */
export type TaskCancelled = DomainEvent<'TaskCancelled', { taskId: string; reason?: string }>;
/** An open task given to another owner (as DealOwnerAssigned); it counts for `ownerId` from `occurredAt` on. */
export type TaskReassigned = DomainEvent<'TaskReassigned', { taskId: string; ownerId: string; previousOwnerId: string }>;

export type TaskEvent = TaskCreated | TaskCompleted | TaskUpdated | TaskCancelled | TaskReassigned;
