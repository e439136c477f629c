import type { DomainEvent } from '../common/decider';

export type TaskCreated = DomainEvent<'TaskCreated', {
  taskId: string;
  ownerId: string;
  subject: string;
  dueAt: string;
  customerId?: string;
  dealId?: string;
  leadId?: string;
  reason?: string;
}>;
export type TaskCompleted = DomainEvent<'TaskCompleted', { taskId: string; outcome?: string }>;

export type TaskEvent = TaskCreated | TaskCompleted;
