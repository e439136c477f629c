import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateNotFound, customerDecider, EraseCustomerPersonalData, decideLogInteraction, idOf } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage, LeadMessage } from '../messages';
import type { CommandContext } from '../command-context';
import { CommandBus } from '@nestjs/cqrs';

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
    if (command.type === 'LogInteraction') {
      // Only existence matters, so the stream is not read: the cost does not grow with history.
      const revision = await this.store.streamRevision(streamId);
      this.executor.checkExpected(streamId, revision, context);
      const events = decideLogInteraction(command, revision >= 0);
      const appended = await this.executor.append(streamId, events, context.expectedRevision ?? ExpectedRevision.StreamExists, context);
      return { id: command.data.interactionId, streamId, revision: appended.revision, position: appended.position };
    }
    if (command.type === 'EraseCustomerPersonalData') return this.erase(streamId, command, context);
    const result = await this.executor.execute(customerDecider, streamId, command, context);
    const id = command.type === 'RecordPurchase' ? command.data.purchaseId : idOf(streamId);
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
    if (result.state.leadId) {
      const cause = result.events[0]?.eventId ?? context.causationId;
      const erase = { type: 'EraseLeadPersonalData' as const, data: { leadId: result.state.leadId }, occurredAt: command.occurredAt };
      await this.commandBus.execute(new LeadMessage(erase, { ...context, causationId: cause, idSeed: `erase|${cause}`, expectedRevision: undefined }));
    }
    return { id: customerId, streamId, revision: result.revision, position: result.position };
  }
}
