import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput, rule } from '../common/errors';
import { streamIdOf } from '../common/streams';
import { parseIsoDateTime } from '../common/time';
import type { TaskCommand } from './commands';
import type { TaskEvent, TaskUpdated } from './events';

export interface TaskState {
  exists: boolean;
  taskId: string;
  ownerId: string;
  subject: string;
  dueAt: string;
  customerId?: string;
  dealId?: string;
  leadId?: string;
  /** `cancelled`: closed without being done (TaskCancelled). Completed and cancelled tasks accept no change. */
  status: 'open' | 'completed' | 'cancelled';
  createdAt?: string;
  completedAt?: string;
  cancelledAt?: string;
  /** Business time of the latest creation, edit, reassignment or cancellation: changes may not be dated before it. */
  lastOccurredAt?: string;
}

export const initialTaskState = (): TaskState => ({ exists: false, taskId: '', ownerId: '', subject: '', dueAt: '', status: 'open' });

/** An edit, cancellation or reassignment: the task exists, is open, and the change is not dated before its last one. */
function mustBeOpen(state: TaskState, taskId: string, occurredAt: string): void {
  const streamId = streamIdOf('task', taskId);
  if (!state.exists) throw new AggregateNotFound(streamId);
  rule(state.status === 'open', `${streamId} is ${state.status}; a closed task accepts no change`, 'task-closed');
  // Reports count a task for its owner, due date and status at each business time (docs/reports.md).
  rule(
    state.lastOccurredAt === undefined || Date.parse(occurredAt) >= Date.parse(state.lastOccurredAt),
    `occurredAt ${occurredAt} is before the task's last change (${state.lastOccurredAt})`,
    'out-of-order',
  );
}

/** The task's customer or lead, as on TaskCreated (only the ones it has): whose key seals its personal text. */
const personOf = (state: TaskState) => JSON.parse(JSON.stringify({ customerId: state.customerId, leadId: state.leadId }));

export const taskDecider: Decider<TaskState, TaskCommand, TaskEvent> = {
  initialState: initialTaskState,

  decide(command, state) {
    const { occurredAt } = command;
    switch (command.type) {
      case 'CreateTask': {
        const d = command.data;
        if (state.exists) throw new AggregateAlreadyExists(streamIdOf('task', d.taskId));
        if (!d.subject.trim()) throw new InvalidInput('subject', 'must not be empty');
        if (Number.isNaN(parseIsoDateTime(d.dueAt))) throw new InvalidInput('dueAt', 'must be an ISO 8601 date');
        return [{ type: 'TaskCreated', data: { ...d }, occurredAt }];
      }
      case 'CompleteTask': {
        const { taskId, outcome } = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('task', taskId));
        rule(state.status !== 'completed', `${streamIdOf('task', taskId)} is already completed`, 'task-completed');
        rule(state.status === 'open', `${streamIdOf('task', taskId)} is ${state.status}; a closed task accepts no change`, 'task-closed');
        if (outcome === undefined) return [{ type: 'TaskCompleted', data: { taskId }, occurredAt }];
        return [{ type: 'TaskCompleted', data: { taskId, outcome, ...personOf(state) }, occurredAt }];
      }
      case 'UpdateTask': {
        const { taskId, subject, dueAt } = command.data;
        mustBeOpen(state, taskId, occurredAt);
        if (subject === undefined && dueAt === undefined) throw new InvalidInput('subject', 'give a subject or a dueAt to change');
        if (subject !== undefined && !subject.trim()) throw new InvalidInput('subject', 'must not be empty');
        if (dueAt !== undefined && Number.isNaN(parseIsoDateTime(dueAt))) throw new InvalidInput('dueAt', 'must be an ISO 8601 date');
        const data: TaskUpdated['data'] = { taskId };
        if (subject !== undefined && subject !== state.subject) Object.assign(data, { subject }, personOf(state));
        if (dueAt !== undefined && dueAt !== state.dueAt) Object.assign(data, { dueAt, previousDueAt: state.dueAt });
        return Object.keys(data).length > 1 ? [{ type: 'TaskUpdated', data, occurredAt }] : [];
      }
      case 'CancelTask': {
        const { taskId, reason } = command.data;
        mustBeOpen(state, taskId, occurredAt);
        if (reason !== undefined && !reason.trim()) throw new InvalidInput('reason', 'must not be empty');
        return [{ type: 'TaskCancelled', data: reason === undefined ? { taskId } : { taskId, reason }, occurredAt }];
      }
      case 'ReassignTask': {
        const { taskId, ownerId } = command.data;
        mustBeOpen(state, taskId, occurredAt);
        if (!ownerId.trim()) throw new InvalidInput('ownerId', 'must not be empty');
        if (ownerId === state.ownerId) return [];
        return [{ type: 'TaskReassigned', data: { taskId, ownerId, previousOwnerId: state.ownerId }, occurredAt }];
      }
      default: {
        const unknown: never = command;
        throw new BusinessRuleViolation(`unknown command ${(unknown as { type: string }).type}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'TaskCreated':
        return { ...state, ...event.data, exists: true, status: 'open', createdAt: event.occurredAt, lastOccurredAt: event.occurredAt };
      case 'TaskCompleted':
        return { ...state, status: 'completed', completedAt: event.occurredAt };
      case 'TaskUpdated': {
        const { subject, dueAt } = event.data;
        return {
          ...state,
          ...(subject !== undefined ? { subject } : {}),
          ...(dueAt !== undefined ? { dueAt } : {}),
          lastOccurredAt: event.occurredAt,
        };
      }
      case 'TaskCancelled':
        return { ...state, status: 'cancelled', cancelledAt: event.occurredAt, lastOccurredAt: event.occurredAt };
      case 'TaskReassigned':
        return { ...state, ownerId: event.data.ownerId, lastOccurredAt: event.occurredAt };
      default:
        return state;
    }
  },
};
