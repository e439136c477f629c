import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateNotFound, customerDecider, CustomerState, decideLogInteraction, EraseCustomerPersonalData, idOf } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandContext, CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage, LeadMessage } from '../messages';
import { assertCreatesOwn, assertMayReassign, assertOwns, OwnershipViolation, ownerScoped } from '../ownership';

@CommandHandler(CustomerMessage)
export class CustomerHandler implements ICommandHandler<CustomerMessage, CommandResult> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly personalData: PersonalDataEventStore,
    private readonly commandBus: CommandBus,
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
    if (command.type === 'EraseCustomerPersonalData') return this.erase(streamId, command, context);
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

  /**
   * Crypto-shredding: the key goes first, then the event records it. A crash in between leaves
   * the data erased and the retry appends the event; the other order could record an erasure
   * whose key survived. The lead the customer came from is the same person: erased with it.
   */
  private async erase(streamId: string, command: EraseCustomerPersonalData, context: CommandContext): Promise<CommandResult> {
    const { customerId } = command.data;
    if ((await this.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
    await this.personalData.erase(streamId);
    const result = await this.executor.execute(customerDecider, streamId, command, context);
    this.executor.forgetSnapshots(streamId); // they hold the state as folded before: names, emails
    if (result.state.leadId) {
      const cause = result.events[0]?.eventId ?? context.causationId;
      const erase = { type: 'EraseLeadPersonalData' as const, data: { leadId: result.state.leadId }, occurredAt: command.occurredAt };
      await this.commandBus.execute(new LeadMessage(erase, { ...context, causationId: cause, idSeed: `erase|${cause}`, expectedRevision: undefined }));
    }
    return { id: customerId, streamId, revision: result.revision, position: result.position };
  }
}
