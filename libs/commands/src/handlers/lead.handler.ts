import { Inject, Logger } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateNotFound, customerFromLead, leadDecider, LeadState } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage, LeadMessage } from '../messages';
import { reactionContext } from '../process-managers/reaction-context';

@CommandHandler(LeadMessage)
export class LeadHandler implements ICommandHandler<LeadMessage, CommandResult> {
  private readonly logger = new Logger(LeadHandler.name);

  constructor(
    private readonly executor: CommandExecutor,
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly personalData: PersonalDataEventStore,
  ) {}

  async execute({ command, context }: LeadMessage): Promise<CommandResult> {
    const streamId = `lead-${command.data.leadId}`;
    if (command.type === 'EraseLeadPersonalData') {
      // Key first, then the event (see CustomerHandler.erase).
      if ((await this.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
      await this.personalData.erase(streamId);
    }
    let registerNewCustomer = false;
    if (command.type === 'ConvertLead') {
      registerNewCustomer = (await this.store.streamRevision(`customer-${command.data.customerId}`)) < 0;
    }
    const result = await this.executor.execute(leadDecider, streamId, command, context);
    const converted = result.events.find((e) => e.type === 'LeadConverted');
    if (converted && registerNewCustomer) {
      await this.registerCustomer(result.state, converted, context.correlationId);
    }
    const conversion = command.type === 'ConvertLead' ? { customerId: command.data.customerId } : {};
    return { id: command.data.leadId, streamId, revision: result.revision, position: result.position, ...conversion };
  }

  /** Conversion registers the customer with the lead's source; the process manager repeats it after a crash. */
  private async registerCustomer(lead: LeadState, converted: { eventId: string; data: unknown; occurredAt: string }, correlationId: string) {
    const { customerId } = converted.data as { customerId: string };
    const command = customerFromLead(lead, customerId, converted.occurredAt);
    try {
      await this.commandBus.execute(new CustomerMessage(command, reactionContext(converted.eventId, correlationId)));
    } catch (error) {
      this.logger.warn(`registration after ${converted.eventId} deferred to the process manager: ${(error as Error).message}`);
    }
  }
}
