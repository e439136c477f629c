import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { customerDecider, CustomerState, decideLogInteraction, idOf } from '@chronicle/domain';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage } from '../messages';
import { assertCreatesOwn, assertMayReassign, assertOwns, OwnershipViolation, ownerScoped } from '../ownership';

@CommandHandler(CustomerMessage)
export class CustomerHandler implements ICommandHandler<CustomerMessage, CommandResult> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ command, context }: CustomerMessage): Promise<CommandResult> {
    const streamId = `customer-${command.data.customerId}`;
    if (command.type === 'LogInteraction' && !ownerScoped(context)) {
      // Only existence matters, so the stream is not read: the cost does not grow with history.
      const revision = await this.store.streamRevision(streamId);
      this.executor.checkExpected(streamId, revision, context);
      const events = decideLogInteraction(command, revision >= 0);
      const appended = await this.executor.append(streamId, events, context.expectedRevision ?? ExpectedRevision.StreamExists, context);
      await this.executor.refreshSnapshot(customerDecider, streamId, appended.revision);
      return { id: command.data.interactionId, streamId, revision: appended.revision, position: appended.position };
    }
    // A rep's interaction needs the owner: the state is loaded from the latest snapshot plus at most
    // a bounded tail (CommandExecutor.load), so this too costs the same whatever the history's length.
    if (command.type === 'RegisterCustomer') assertCreatesOwn(context, streamId, command.data.ownerId);
    if (command.type === 'AssignCustomerOwner' && ownerScoped(context)) {
      throw new OwnershipViolation(`reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
    }
    const authorize = (state: CustomerState) => {
      if (!state.exists) return;
      assertOwns(context, streamId, state.ownerId);
      if (command.type === 'UpdateCustomerProfile') assertMayReassign(context, streamId, command.data.ownerId, state.ownerId);
    };
    const result = await this.executor.execute(customerDecider, streamId, command, context, authorize);
    const id = command.type === 'RecordPurchase' ? command.data.purchaseId : command.type === 'LogInteraction' ? command.data.interactionId : idOf(streamId);
    return { id, streamId, revision: result.revision, position: result.position };
  }
}
