import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { goalDecider, GoalState } from '@chronicle/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { GoalMessage } from '../messages';
import { OwnershipViolation, ownerScoped } from '../ownership';

/**
 * A goal's figures are its segment's: a caller limited to its own records (a rep) sets and cancels
 * only goals segmented on its own owner id, so a goal never shows it another owner's or the
 * company's figures (the read side applies the same rule: apps/api/src/goals).
 */
function assertOwnGoal(context: CommandContext, streamId: string, owner: string | undefined): void {
  if (!ownerScoped(context) || owner === context.ownerScope) return;
  throw new OwnershipViolation(
    `segment.owner: role "rep" sets and cancels only goals on its own figures (segment.owner = "${context.ownerScope}"); ${streamId} is ${owner === undefined ? 'not segmented by owner' : 'on someone else\'s figures'}`,
  );
}

@CommandHandler(GoalMessage)
export class GoalHandler implements ICommandHandler<GoalMessage, CommandResult> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ command, context }: GoalMessage): Promise<CommandResult> {
    const streamId = `goal-${command.data.goalId}`;
    if (command.type === 'SetGoal') assertOwnGoal(context, streamId, command.data.segment?.owner);
    const authorize = command.type === 'CancelGoal' ? (state: GoalState) => state.exists && assertOwnGoal(context, streamId, state.segment?.owner) : undefined;
    const result = await this.executor.execute(goalDecider, streamId, command, context, authorize);
    return { id: command.data.goalId, streamId, revision: result.revision, position: result.position };
  }
}
