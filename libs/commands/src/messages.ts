import { Command } from '@nestjs/cqrs';
import type { CampaignCommand, CustomerCommand, DealCommand, GoalCommand, LeadCommand, TaskCommand } from '@chronicle/domain';
import type { CommandContext, CommandResult } from './command-context';

/**
 * One CommandBus message per aggregate: the domain command plus who sent it. Handlers are found
 * by class, so each aggregate has its own class.
 */
abstract class AggregateMessage<C> extends Command<CommandResult> {
  constructor(
    readonly command: C,
    readonly context: CommandContext,
  ) {
    super();
  }
}
export class CustomerMessage extends AggregateMessage<CustomerCommand> {
  constructor(
    command: CustomerCommand,
    context: CommandContext,
    /**
     * RegisterCustomer sent by a person (the API): an owner left unsaid is the caller's, unless
     * customers are auto-assigned (then the assignment process manager picks one). Decided by the
     * command's spec (handlers/customer.handler.ts); reactions leave it unset.
     */
    readonly ownerDefaultsToCaller?: boolean,
  ) {
    super(command, context);
  }
}
export class LeadMessage extends AggregateMessage<LeadCommand> {
  constructor(
    command: LeadCommand,
    context: CommandContext,
    /** CaptureLead: the lead's owner, assigned in the same append (LeadAssigned); absent = unassigned. */
    readonly ownerId?: string,
  ) {
    super(command, context);
  }
}
export class DealMessage extends AggregateMessage<DealCommand> {}
export class CampaignMessage extends AggregateMessage<CampaignCommand> {}
export class TaskMessage extends AggregateMessage<TaskCommand> {}
export class GoalMessage extends AggregateMessage<GoalCommand> {}
