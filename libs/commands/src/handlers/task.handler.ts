import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { BusinessRuleViolation, taskDecider } from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { TaskMessage } from '../messages';

@CommandHandler(TaskMessage)
export class TaskHandler implements ICommandHandler<TaskMessage, CommandResult> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ command, context }: TaskMessage): Promise<CommandResult> {
    if (command.type === 'CreateTask') {
      const refs = { customerId: 'customer', dealId: 'deal', leadId: 'lead' } as const;
      for (const [field, category] of Object.entries(refs)) {
        const id = command.data[field as keyof typeof refs];
        if (id !== undefined && (await this.store.streamRevision(`${category}-${id}`)) < 0) {
          throw new BusinessRuleViolation(`${field}: ${category}-${id} does not exist`, `unknown-${category}`);
        }
      }
    }
    const streamId = `task-${command.data.taskId}`;
    const result = await this.executor.execute(taskDecider, streamId, command, context);
    return { id: command.data.taskId, streamId, revision: result.revision, position: result.position };
  }
}
