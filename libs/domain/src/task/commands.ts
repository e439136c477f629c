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
/** Edits an open task: the fields given replace the current ones (at least one). */
export type UpdateTask = Command<'UpdateTask', { taskId: string; subject?: string; dueAt?: string }>;
/** Cancels an open task: it is closed without being done. */
export type CancelTask = Command<'CancelTask', { taskId: string; reason?: string }>;
/** Gives an open task to another owner (managers and admins: libs/commands task.handler). */
export type ReassignTask = Command<'ReassignTask', { taskId: string; ownerId: string }>;

export type TaskCommand = CreateTask | CompleteTask | UpdateTask | CancelTask | ReassignTask;
