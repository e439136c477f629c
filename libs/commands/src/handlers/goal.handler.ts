import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { GoalCommand, GoalEvent, GoalState, streamIdOf } from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpecs } from '../command-spec';
import { GoalMessage } from '../messages';
import { assertOwnGoal } from '../ownership';

const stream = (command: GoalCommand) => streamIdOf('goal', command.data.goalId);
const decider = (env: CommandEnvironment) => env.deciders.goal;
const result = (command: GoalCommand) => ({ id: command.data.goalId });

export const goalCommands: CommandSpecs<GoalState, GoalCommand, GoalEvent> = {
  SetGoal: {
    stream,
    decider,
    result,
    permit: (context, command, streamId) => assertOwnGoal(context, streamId, command.data.segment?.owner),
  },
  CancelGoal: {
    stream,
    decider,
    result,
    authorize: (context, streamId, state) => state.exists && assertOwnGoal(context, streamId, state.segment?.owner),
  },
};

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(GoalMessage)
export class GoalHandler implements ICommandHandler<GoalMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: GoalMessage): Promise<CommandResult> {
    return this.env.run(goalCommands, message);
  }
}
