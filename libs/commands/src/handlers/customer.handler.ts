import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { customerDecider, decideLogInteraction, idOf } from '@chronicle/domain';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage } from '../messages';

@CommandHandler(CustomerMessage)
export class CustomerHandler implements ICommandHandler<CustomerMessage, CommandResult> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
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
    const result = await this.executor.execute(customerDecider, streamId, command, context);
    const id = command.type === 'RecordPurchase' ? command.data.purchaseId : idOf(streamId);
    return { id, streamId, revision: result.revision, position: result.position };
  }
}
