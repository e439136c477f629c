import { Inject, Logger } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateNotFound, BusinessRuleViolation, customerDecider, customerFromLead, Decider, leadDecider, LeadCommand, LeadEvent, LeadState, rule } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage, LeadMessage } from '../messages';
import { assertCreatesOwn, assertOwns, ownedBy, OwnershipViolation, ownerScoped } from '../ownership';
import { LINK_LEAD, reactionContext } from '../process-managers/reaction-context';

/**
 * The lead decider, plus capture with an owner: LeadCaptured and LeadAssigned in one append, so a
 * lead captured by a rep is never, even for a moment, unowned. Same fold (snapshots stay valid).
 */
const captureWithOwner = (ownerId: string): Decider<LeadState, LeadCommand, LeadEvent> => ({
  ...leadDecider,
  decide(command, state) {
    const captured = leadDecider.decide(command, state);
    if (command.type !== 'CaptureLead') return captured;
    const after = captured.reduce(leadDecider.evolve, state);
    const assign: LeadCommand = { type: 'AssignLead', data: { leadId: command.data.leadId, ownerId, strategy: 'capture' }, occurredAt: command.occurredAt };
    return [...captured, ...leadDecider.decide(assign, after)];
  },
});

@CommandHandler(LeadMessage)
export class LeadHandler implements ICommandHandler<LeadMessage, CommandResult> {
  private readonly logger = new Logger(LeadHandler.name);

  constructor(
    private readonly executor: CommandExecutor,
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly personalData: PersonalDataEventStore,
  ) {}

  async execute({ command, context, ownerId }: LeadMessage): Promise<CommandResult> {
    const streamId = `lead-${command.data.leadId}`;
    if (command.type === 'EraseLeadPersonalData') {
      // Key first, then the event (see CustomerHandler.erase).
      if ((await this.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
      await this.personalData.erase(streamId);
    }
    let decider = leadDecider;
    if (command.type === 'CaptureLead') {
      assertCreatesOwn(context, streamId, ownerId);
      // A lead from a campaign counts for it in every campaign figure: the campaign must exist.
      const campaignStream = command.data.campaignId === undefined ? undefined : `campaign-${command.data.campaignId}`;
      if (campaignStream && (await this.store.streamRevision(campaignStream)) < 0) {
        throw new BusinessRuleViolation(`campaignId: ${campaignStream} does not exist`, 'unknown-campaign');
      }
      if (ownerId !== undefined) decider = captureWithOwner(ownerId);
    }
    if (command.type === 'AssignLead' && ownerScoped(context)) {
      throw new OwnershipViolation(`reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
    }
    let registerNewCustomer = false;
    if (command.type === 'ConvertLead') {
      const customerStream = `customer-${command.data.customerId}`;
      const customer = await this.executor.load(customerDecider, customerStream);
      registerNewCustomer = !customer.state.exists;
      // Converting into an existing customer attaches the lead to it: a rep's own customers only.
      if (customer.state.exists && ownerScoped(context)) assertOwns(context, customerStream, customer.state.ownerId);
      rule(
        !customer.state.personalDataErased,
        `the personal data of ${customerStream} was erased; a lead cannot be converted into it`,
        'personal-data-erased',
      );
    }
    const result = await this.executor.execute(decider, streamId, command, context, ownedBy(context, streamId));
    if (command.type === 'EraseLeadPersonalData') this.executor.forgetSnapshots(streamId);
    const converted = result.events.find((e) => e.type === 'LeadConverted');
    if (converted && registerNewCustomer) {
      await this.registerCustomer(result.state, converted, context.correlationId);
    } else if (converted) {
      await this.linkToCustomer(converted, context.correlationId);
    }
    const conversion = command.type === 'ConvertLead' ? { customerId: command.data.customerId } : {};
    return { id: command.data.leadId, streamId, revision: result.revision, position: result.position, ...conversion };
  }

  /**
   * Conversion into an existing customer records the lead on the customer's stream too, so that
   * erasing the customer finds it; the acquisition process manager repeats it after a crash.
   */
  private async linkToCustomer(converted: { eventId: string; data: unknown; occurredAt: string }, correlationId: string) {
    const { customerId, leadId } = converted.data as { customerId: string; leadId: string };
    const command = { type: 'LinkLead' as const, data: { customerId, leadId }, occurredAt: converted.occurredAt };
    try {
      await this.commandBus.execute(new CustomerMessage(command, reactionContext(converted.eventId, correlationId, LINK_LEAD)));
    } catch (error) {
      this.logger.warn(`linking after ${converted.eventId} deferred to the process manager: ${(error as Error).message}`);
    }
  }

  /** Conversion registers the customer with the lead's source (and owner); the process manager repeats it after a crash. */
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
