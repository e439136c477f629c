import type { Command } from '../common/decider';

export type CreateTask = Command<
  'CreateTask',
  {
    taskId: string;
    ownerId: string;
    subject: string;
    dueAt: string;
    customerId?: string;
    dealId?: string;
    leadId?: string;
    /** Why it was created, for tasks created by automation (rule name, stall). */
    reason?: string;
  }
>;
export type CompleteTask = Command<'CompleteTask', { taskId: string; outcome?: string }>;

export type TaskCommand = CreateTask | CompleteTask;
