import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import type { CreateTask, UpdateTask } from './commands';
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
const cancelled: TaskEvent = { type: 'TaskCancelled', data: { taskId }, occurredAt: t1 };
const reassigned: TaskEvent = { type: 'TaskReassigned', data: { taskId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 };

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

  describe('UpdateTask', () => {
    const update = (data: Omit<UpdateTask['data'], 'taskId'>, occurredAt = t1): UpdateTask => ({
      type: 'UpdateTask',
      data: { taskId, ...data },
      occurredAt,
    });

    it("changes the subject, naming the task's customer (whose key seals it)", () =>
      spec
        .given([created])
        .when(update({ subject: 'Send the revised proposal' }))
        .then([{ type: 'TaskUpdated', data: { taskId, subject: 'Send the revised proposal', customerId: 'c-1' }, occurredAt: t1 }]));

    it('changes the due date with the one it replaces, and names nobody', () =>
      spec
        .given([created])
        .when(update({ dueAt: '2024-01-20' }))
        .then([{ type: 'TaskUpdated', data: { taskId, dueAt: '2024-01-20', previousDueAt: '2024-01-15T17:00:00Z' }, occurredAt: t1 }]));

    it('changes both in one event; only what differs; nothing when nothing differs', () => {
      spec
        .given([created])
        .when(update({ subject: 'Call', dueAt: '2024-01-20' }))
        .then([
          {
            type: 'TaskUpdated',
            data: { taskId, subject: 'Call', customerId: 'c-1', dueAt: '2024-01-20', previousDueAt: '2024-01-15T17:00:00Z' },
            occurredAt: t1,
          },
        ]);
      spec
        .given([created])
        .when(update({ subject: 'Send the proposal', dueAt: '2024-01-20' }))
        .then([{ type: 'TaskUpdated', data: { taskId, dueAt: '2024-01-20', previousDueAt: '2024-01-15T17:00:00Z' }, occurredAt: t1 }]);
      spec
        .given([created])
        .when(update({ subject: 'Send the proposal', dueAt: '2024-01-15T17:00:00Z' }))
        .then([]);
    });

    it("names the task's lead with a new subject", () =>
      spec
        .given([{ ...created, data: { taskId, ownerId: 'u-1', subject: 'Call', dueAt: '2024-01-15', leadId: 'l-1' } }])
        .when(update({ subject: 'Call back' }))
        .then([{ type: 'TaskUpdated', data: { taskId, subject: 'Call back', leadId: 'l-1' }, occurredAt: t1 }]));

    it.each([
      ['an empty subject', { subject: ' ' }, 'subject'],
      ['a bad due date', { dueAt: '2024-02-30' }, 'dueAt'],
      ['nothing to change', {}, 'subject'],
    ] as const)('rejects %s', (_name, data, field) =>
      spec
        .given([created])
        .when(update(data))
        .thenThrows(InvalidInput, (e) => e.field === field),
    );

    it('rejects editing a completed or cancelled task, a change dated before the last one, and a task that does not exist', () => {
      spec
        .given([created, completed])
        .when(update({ subject: 'Again' }, t2))
        .thenThrows(BusinessRuleViolation, `task-${taskId} is completed; a closed task accepts no change`);
      spec
        .given([created, cancelled])
        .when(update({ subject: 'Again' }, t2))
        .thenThrows(BusinessRuleViolation, `task-${taskId} is cancelled; a closed task accepts no change`);
      spec
        .given([created, reassigned])
        .when(update({ subject: 'Earlier' }, '2024-01-11T00:00:00.000Z'))
        .thenThrows(BusinessRuleViolation, `occurredAt 2024-01-11T00:00:00.000Z is before the task's last change (${t1})`);
      spec
        .given([])
        .when(update({ subject: 'x' }))
        .thenThrows(AggregateNotFound, `task-${taskId} does not exist`);
    });
  });

  describe('CancelTask', () => {
    it('cancels an open task, with or without a reason', () => {
      spec.given([created]).when({ type: 'CancelTask', data: { taskId }, occurredAt: t1 }).then([cancelled]);
      spec
        .given([created])
        .when({ type: 'CancelTask', data: { taskId, reason: 'customer called first' }, occurredAt: t1 })
        .then([{ type: 'TaskCancelled', data: { taskId, reason: 'customer called first' }, occurredAt: t1 }]);
    });

    it('rejects cancelling twice, cancelling a completed task, completing a cancelled one, an empty reason, a backdated one', () => {
      spec
        .given([created, cancelled])
        .when({ type: 'CancelTask', data: { taskId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `task-${taskId} is cancelled; a closed task accepts no change`);
      spec
        .given([created, completed])
        .when({ type: 'CancelTask', data: { taskId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `task-${taskId} is completed; a closed task accepts no change`);
      spec
        .given([created, cancelled])
        .when({ type: 'CompleteTask', data: { taskId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `task-${taskId} is cancelled; a closed task accepts no change`);
      spec
        .given([created])
        .when({ type: 'CancelTask', data: { taskId, reason: '' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'reason');
      spec
        .given([created])
        .when({ type: 'CancelTask', data: { taskId }, occurredAt: '2024-01-09T00:00:00.000Z' })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order');
      spec.given([]).when({ type: 'CancelTask', data: { taskId }, occurredAt: t1 }).thenThrows(AggregateNotFound);
    });
  });

  describe('ReassignTask', () => {
    it('gives an open task to another owner, naming the previous one; nothing when it is already theirs', () => {
      spec
        .given([created])
        .when({ type: 'ReassignTask', data: { taskId, ownerId: 'u-2' }, occurredAt: t1 })
        .then([reassigned]);
      spec
        .given([created])
        .when({ type: 'ReassignTask', data: { taskId, ownerId: 'u-1' }, occurredAt: t1 })
        .then([]);
    });

    it('rejects an empty owner, a closed task and a task that does not exist', () => {
      spec
        .given([created])
        .when({ type: 'ReassignTask', data: { taskId, ownerId: ' ' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'ownerId');
      spec
        .given([created, completed])
        .when({ type: 'ReassignTask', data: { taskId, ownerId: 'u-2' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `task-${taskId} is completed; a closed task accepts no change`);
      spec
        .given([])
        .when({ type: 'ReassignTask', data: { taskId, ownerId: 'u-2' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound);
    });
  });

  describe('evolve', () => {
    it('folds edits, reassignment and cancellation', () => {
      const edited: TaskEvent = { type: 'TaskUpdated', data: { taskId, subject: 'New', dueAt: '2024-01-20' }, occurredAt: t1 };
      expect(fold(taskDecider, [created, edited, reassigned])).toMatchObject({
        subject: 'New',
        dueAt: '2024-01-20',
        ownerId: 'u-2',
        status: 'open',
        lastOccurredAt: t1,
      });
      expect(fold(taskDecider, [created, cancelled])).toMatchObject({ status: 'cancelled', cancelledAt: t1 });
    });

    it('folds creation and completion', () => {
      expect(fold(taskDecider, [created])).toMatchObject({ exists: true, status: 'open', createdAt, ownerId: 'u-1', dealId: 'd-1' });
      expect(fold(taskDecider, [created, completed])).toMatchObject({ status: 'completed', completedAt: t1 });
    });
  });
});
