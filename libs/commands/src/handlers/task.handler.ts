import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { assertNotMerged, BusinessRuleViolation, TaskCommand, TaskEvent, TaskState, streamIdOf } from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpec, CommandSpecs } from '../command-spec';
import { TaskMessage } from '../messages';
import { assertCreatesOwn, assertMayAssign, assertOwns, authorizeOwner, ownerScoped } from '../ownership';

type Spec<C extends TaskCommand> = CommandSpec<TaskState, C, TaskEvent>;

/** A command on a task: the caller must own it (for a rep). */
const onTask = <C extends TaskCommand>(extra: Partial<Spec<C>> = {}): Spec<C> => ({
  stream: (command) => streamIdOf('task', command.data.taskId),
  decider: (env) => env.deciders.task,
  authorize: authorizeOwner,
  result: (command) => ({ id: command.data.taskId }),
  ...extra,
});

/** The records a task may be about. */
const refs = { customerId: 'customer', dealId: 'deal', leadId: 'lead' } as const;

export const taskCommands: CommandSpecs<TaskState, TaskCommand, TaskEvent> = {
  CreateTask: onTask({
    permit: (context, command, streamId) => assertCreatesOwn(context, streamId, command.data.ownerId),
    check: async (command, context, env) => {
      for (const [field, category] of Object.entries(refs)) {
        const id = command.data[field as keyof typeof refs];
        if (id === undefined) continue;
        const refStream = `${category}-${id}`;
        if (ownerScoped(context) || category === 'customer') {
          // A rep's task is about its own customers, deals and leads (their current owner); no one's
          // is about a merged customer (docs/merging.md), so a customer's state is read for everyone.
          const { state } = await env.executor.load<{ exists: boolean; ownerId?: string; mergedInto?: string }>(
            env.deciders[category],
            refStream,
          );
          if (!state.exists) throw new BusinessRuleViolation(`${field}: ${refStream} does not exist`, `unknown-${category}`);
          if (ownerScoped(context)) assertOwns(context, refStream, state.ownerId);
          assertNotMerged(state, refStream);
        } else if ((await env.store.streamRevision(refStream)) < 0) {
          throw new BusinessRuleViolation(`${field}: ${refStream} does not exist`, `unknown-${category}`);
        }
      }
    },
  }),
  CompleteTask: onTask(),
  // A rep edits and cancels the tasks it owns (authorizeOwner); reassigning is for managers and admins.
  UpdateTask: onTask(),
  CancelTask: onTask(),
  ReassignTask: onTask({ permit: (context, _, streamId) => assertMayAssign(context, streamId) }),
};

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(TaskMessage)
export class TaskHandler implements ICommandHandler<TaskMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: TaskMessage): Promise<CommandResult> {
    return this.env.run(taskCommands, message);
  }
}
