import { Inject, Logger } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { BusinessRuleViolation, customerDecider, dealDecider, DealWon, onDealWon, Pipeline } from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE, PIPELINE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CustomerMessage, DealMessage } from '../messages';
import { assertCreatesOwn, assertOwns, ownedBy, OwnershipViolation, ownerScoped } from '../ownership';
import { reactionContext } from '../process-managers/reaction-context';

@CommandHandler(DealMessage)
export class DealHandler implements ICommandHandler<DealMessage, CommandResult> {
  private readonly logger = new Logger(DealHandler.name);
  private readonly decider;

  constructor(
    private readonly executor: CommandExecutor,
    private readonly commandBus: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PIPELINE) pipeline: Pipeline,
  ) {
    this.decider = dealDecider(pipeline);
  }

  async execute({ command, context }: DealMessage): Promise<CommandResult> {
    const dealId = command.data.dealId;
    const streamId = `deal-${dealId}`;
    if (command.type === 'OpenDeal') {
      const customerStream = `customer-${command.data.customerId}`;
      assertCreatesOwn(context, streamId, command.data.ownerId);
      if (ownerScoped(context)) {
        // A rep opens deals only for customers it owns: the customer's current state (snapshot + tail).
        const customer = await this.executor.load(customerDecider, customerStream);
        if (!customer.state.exists) throw new BusinessRuleViolation(`customerId: ${customerStream} does not exist`, 'unknown-customer');
        assertOwns(context, customerStream, customer.state.ownerId);
        if (!command.data.source) command.data.source = customer.state.source;
      } else {
        // The customer's registration is its first event: reading one event gives existence and source.
        const [registered] = await this.store.readStream(customerStream, { maxCount: 1 });
        if (!registered) throw new BusinessRuleViolation(`customerId: ${customerStream} does not exist`, 'unknown-customer');
        if (!command.data.source) command.data.source = (registered.data as { source: string }).source;
      }
    }
    if (command.type === 'AssignDealOwner' && ownerScoped(context)) {
      throw new OwnershipViolation(`reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
    }
    const result = await this.executor.execute(this.decider, streamId, command, context, ownedBy(context, streamId));
    const won = result.events.find((e) => e.type === 'DealWon');
    if (won) await this.acquireCustomer(won, context.correlationId);
    return { id: dealId, streamId, revision: result.revision, position: result.position };
  }

  /**
   * The first won deal acquires the customer. Done here so the client sees it at once; the
   * acquisition process manager repeats it from the feed if this process dies in between
   * (the command is idempotent and its event ids derive from the DealWon event).
   */
  private async acquireCustomer(won: { eventId: string; data: unknown; occurredAt: string }, correlationId: string): Promise<void> {
    const command = onDealWon({ type: 'DealWon', data: won.data as DealWon['data'], occurredAt: won.occurredAt });
    try {
      await this.commandBus.execute(new CustomerMessage(command, reactionContext(won.eventId, correlationId)));
    } catch (error) {
      this.logger.warn(`acquisition after ${won.eventId} deferred to the process manager: ${(error as Error).message}`);
    }
  }
}
