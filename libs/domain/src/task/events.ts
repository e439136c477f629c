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

export type TaskEvent = TaskCreated | TaskCompleted;
