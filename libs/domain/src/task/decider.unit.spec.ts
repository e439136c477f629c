import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import type { CreateTask } from './commands';
import { taskDecider } from './decider';
import type { TaskCreated, TaskEvent } from './events';

const spec = DeciderSpecification.for(taskDecider);

const taskId = 't-1';
const createdAt = '2024-01-10T09:00:00.000Z';
const t1 = '2024-01-12T10:00:00.000Z';
const t2 = '2024-01-13T10:00:00.000Z';

const createTask = (data: Partial<CreateTask['data']> = {}): CreateTask => ({
  type: 'CreateTask',
  data: { taskId, ownerId: 'u-1', subject: 'Send the proposal', dueAt: '2024-01-15T17:00:00Z', customerId: 'c-1', dealId: 'd-1', ...data },
  occurredAt: createdAt,
});

const created: TaskCreated = {
  type: 'TaskCreated',
  data: { taskId, ownerId: 'u-1', subject: 'Send the proposal', dueAt: '2024-01-15T17:00:00Z', customerId: 'c-1', dealId: 'd-1' },
  occurredAt: createdAt,
};
const completed: TaskEvent = { type: 'TaskCompleted', data: { taskId }, occurredAt: t1 };

describe('task decider', () => {
  describe('CreateTask', () => {
    it('creates a task linked to a customer and a deal', () => spec.given([]).when(createTask()).then([created]));

    it('creates a task for a lead with a date-only due date', () =>
      spec
        .given([])
        .when(createTask({ customerId: undefined, dealId: undefined, leadId: 'l-1', dueAt: '2024-01-15' }))
        .then([
          {
            type: 'TaskCreated',
            data: { taskId, ownerId: 'u-1', subject: 'Send the proposal', dueAt: '2024-01-15', leadId: 'l-1' },
            occurredAt: createdAt,
          },
        ]));

    it.each(['tomorrow', 'hello 1', '2024-02-30', ''])('rejects the due date %j', (dueAt) =>
      spec
        .given([])
        .when(createTask({ dueAt }))
        .thenThrows(InvalidInput, (e) => e.field === 'dueAt'),
    );

    it('rejects an empty subject', () =>
      spec
        .given([])
        .when(createTask({ subject: '' }))
        .thenThrows(InvalidInput, (e) => e.field === 'subject'));

    it('rejects creating a task that already exists', () =>
      spec.given([created]).when(createTask()).thenThrows(AggregateAlreadyExists, `task-${taskId} already exists`));
  });

  describe('CompleteTask', () => {
    it('completes an open task', () =>
      spec.given([created]).when({ type: 'CompleteTask', data: { taskId }, occurredAt: t1 }).then([completed]));

    it("completes an open task with an outcome, naming the task's customer (whose key seals the outcome)", () =>
      spec
        .given([created])
        .when({ type: 'CompleteTask', data: { taskId, outcome: 'sent' }, occurredAt: t1 })
        .then([{ type: 'TaskCompleted', data: { taskId, outcome: 'sent', customerId: 'c-1' }, occurredAt: t1 }]));

    it("names the task's lead with an outcome, and nobody for a task about no one", () => {
      const forLead: TaskCreated = { ...created, data: { taskId, ownerId: 'u-1', subject: 'Call', dueAt: '2024-01-15', leadId: 'l-1' } };
      spec
        .given([forLead])
        .when({ type: 'CompleteTask', data: { taskId, outcome: 'no answer' }, occurredAt: t1 })
        .then([{ type: 'TaskCompleted', data: { taskId, outcome: 'no answer', leadId: 'l-1' }, occurredAt: t1 }]);
      const forDeal: TaskCreated = { ...created, data: { taskId, ownerId: 'u-1', subject: 'Review', dueAt: '2024-01-15', dealId: 'd-1' } };
      spec
        .given([forDeal])
        .when({ type: 'CompleteTask', data: { taskId, outcome: 'done' }, occurredAt: t1 })
        .then([{ type: 'TaskCompleted', data: { taskId, outcome: 'done' }, occurredAt: t1 }]);
    });

    it('rejects completing a task twice', () =>
      spec
        .given([created, completed])
        .when({ type: 'CompleteTask', data: { taskId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `task-${taskId} is already completed`));

    it('rejects a task that does not exist', () =>
      spec
        .given([])
        .when({ type: 'CompleteTask', data: { taskId }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `task-${taskId} does not exist`));
  });

  describe('evolve', () => {
    it('folds creation and completion', () => {
      expect(fold(taskDecider, [created])).toMatchObject({ exists: true, status: 'open', createdAt, ownerId: 'u-1', dealId: 'd-1' });
      expect(fold(taskDecider, [created, completed])).toMatchObject({ status: 'completed', completedAt: t1 });
    });
  });
});
