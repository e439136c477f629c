import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { BusinessRuleViolation, customerDecider, dealDecider, leadDecider, Pipeline, taskDecider } from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE, PIPELINE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { TaskMessage } from '../messages';
import { assertCreatesOwn, assertOwns, ownedBy, ownerScoped } from '../ownership';

@CommandHandler(TaskMessage)
export class TaskHandler implements ICommandHandler<TaskMessage, CommandResult> {
  private readonly folders;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PIPELINE) pipeline: Pipeline,
  ) {
    this.folders = { customer: customerDecider, deal: dealDecider(pipeline), lead: leadDecider } as const;
  }

  async execute({ command, context }: TaskMessage): Promise<CommandResult> {
    const streamId = `task-${command.data.taskId}`;
    if (command.type === 'CreateTask') {
      assertCreatesOwn(context, streamId, command.data.ownerId);
      const refs = { customerId: 'customer', dealId: 'deal', leadId: 'lead' } as const;
      for (const [field, category] of Object.entries(refs)) {
        const id = command.data[field as keyof typeof refs];
        if (id === undefined) continue;
        const refStream = `${category}-${id}`;
        if (ownerScoped(context)) {
          // A rep's task is about its own customers, deals and leads (their current owner).
          const { state } = await this.executor.load<{ exists: boolean; ownerId?: string }>(this.folders[category], refStream);
          if (!state.exists) throw new BusinessRuleViolation(`${field}: ${refStream} does not exist`, `unknown-${category}`);
          assertOwns(context, refStream, state.ownerId);
        } else if ((await this.store.streamRevision(refStream)) < 0) {
          throw new BusinessRuleViolation(`${field}: ${refStream} does not exist`, `unknown-${category}`);
        }
      }
    }
    const result = await this.executor.execute(taskDecider, streamId, command, context, ownedBy(context, streamId));
    return { id: command.data.taskId, streamId, revision: result.revision, position: result.position };
  }
}
