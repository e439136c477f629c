import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput, rule } from '../common/errors';
import { streamIdOf } from '../common/streams';
import { parseIsoDateTime } from '../common/time';
import type { TaskCommand } from './commands';
import type { TaskEvent } from './events';

export interface TaskState {
  exists: boolean;
  taskId: string;
  ownerId: string;
  subject: string;
  dueAt: string;
  customerId?: string;
  dealId?: string;
  leadId?: string;
  status: 'open' | 'completed';
  createdAt?: string;
  completedAt?: string;
}

export const initialTaskState = (): TaskState => ({ exists: false, taskId: '', ownerId: '', subject: '', dueAt: '', status: 'open' });

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
        rule(state.status === 'open', `${streamIdOf('task', taskId)} is already completed`, 'task-completed');
        if (outcome === undefined) return [{ type: 'TaskCompleted', data: { taskId }, occurredAt }];
        const person = JSON.parse(JSON.stringify({ customerId: state.customerId, leadId: state.leadId }));
        return [{ type: 'TaskCompleted', data: { taskId, outcome, ...person }, occurredAt }];
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
        return { ...state, ...event.data, exists: true, status: 'open', createdAt: event.occurredAt };
      case 'TaskCompleted':
        return { ...state, status: 'completed', completedAt: event.occurredAt };
      default:
        return state;
    }
  },
};
