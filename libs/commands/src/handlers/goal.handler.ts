import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { goalDecider } from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { GoalMessage } from '../messages';

@CommandHandler(GoalMessage)
export class GoalHandler implements ICommandHandler<GoalMessage, CommandResult> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ command, context }: GoalMessage): Promise<CommandResult> {
    const streamId = `goal-${command.data.goalId}`;
    const result = await this.executor.execute(goalDecider, streamId, command, context);
    return { id: command.data.goalId, streamId, revision: result.revision, position: result.position };
  }
}
