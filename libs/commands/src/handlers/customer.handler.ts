import { Inject } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  AggregateNotFound,
  categoryOf,
  BusinessRuleViolation,
  customerDecider,
  CustomerState,
  dealDecider,
  decideLogInteraction,
  EraseCustomerPersonalData,
  idOf,
  LinkLead,
  Pipeline,
  samePersonSubjects,
  streamIdOf,
} from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE, PIPELINE } from '@chronicle/shared';
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
    @Inject(PIPELINE) pipeline: Pipeline,
  ) {
    this.dealFolder = dealDecider(pipeline);
  }

  /** Folds a deal's stream (its current owner, for a rep's interaction about it). */
  private readonly dealFolder;

  async execute({ command, context }: CustomerMessage): Promise<CommandResult> {
    const streamId = `customer-${command.data.customerId}`;
    if (command.type === 'LogInteraction' && !ownerScoped(context)) {
      // Only existence matters, so the stream is not read: the cost does not grow with history.
      const revision = await this.store.streamRevision(streamId);
      this.executor.checkExpected(streamId, revision, context);
      const events = decideLogInteraction(command, revision >= 0);
      if (command.data.dealId !== undefined) await this.assertDealOf(context, command.data.customerId, command.data.dealId);
      const appended = await this.executor.append(streamId, events, context.expectedRevision ?? ExpectedRevision.StreamExists, context);
      await this.executor.refreshSnapshot(customerDecider, streamId, appended.revision);
      return { id: command.data.interactionId, streamId, revision: appended.revision, position: appended.position };
    }
    if (command.type === 'EraseCustomerPersonalData') return this.erase(streamId, command, context);
    if (command.type === 'LinkLead') return this.link(streamId, command, context);
    // A rep's interaction needs the owner: the state is loaded from the latest snapshot plus at most
    // a bounded tail (CommandExecutor.load), so this too costs the same whatever the history's length.
    if (command.type === 'RegisterCustomer') assertCreatesOwn(context, streamId, command.data.ownerId);
    if (command.type === 'AssignCustomerOwner' && ownerScoped(context)) {
      throw new OwnershipViolation(`reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
    }
    if (command.type === 'LogInteraction' && command.data.dealId !== undefined) {
      // The customer first (a 404, or a 403 for a rep's other-owner customer), then the deal it names.
      const { state } = await this.executor.load(customerDecider, streamId);
      if (!state.exists) throw new AggregateNotFound(streamId);
      assertOwns(context, streamId, state.ownerId);
      await this.assertDealOf(context, command.data.customerId, command.data.dealId);
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
   * An interaction about a deal names one of this customer's deals, and for a rep one it owns
   * (its current owner). A deal's customer never changes, so for everyone else its first event
   * (DealOpened) says all: one event read, whatever the deal's history.
   */
  private async assertDealOf(context: CommandContext, customerId: string, dealId: string): Promise<void> {
    const dealStream = `deal-${dealId}`;
    let deal: { customerId?: string; ownerId?: string } | undefined;
    if (ownerScoped(context)) {
      const { state } = await this.executor.load(this.dealFolder, dealStream);
      deal = state.exists ? state : undefined;
    } else {
      const [opened] = await this.store.readStream(dealStream, { maxCount: 1 });
      deal = opened?.data as { customerId?: string } | undefined;
    }
    if (!deal) throw new BusinessRuleViolation(`dealId: ${dealStream} does not exist`, 'unknown-deal');
    if (deal.customerId !== customerId) throw new BusinessRuleViolation(`dealId: ${dealStream} is a deal of another customer, not of customer-${customerId}`, 'deal-of-another-customer');
    assertOwns(context, dealStream, deal.ownerId);
  }

  /**
   * Crypto-shredding: the key goes first, then the event records it. A crash in between leaves
   * the data erased and the retry appends the event; the other order could record an erasure
   * whose key survived. Every lead that became this person (samePersonSubjects) is erased before
   * the customer's event, so a recorded CustomerPersonalDataErased means they are all gone, and a
   * retry after a crash anywhere finishes the job: each step is a no-op once done.
   */
  private async erase(streamId: string, command: EraseCustomerPersonalData, context: CommandContext): Promise<CommandResult> {
    const { customerId } = command.data;
    if ((await this.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
    await this.personalData.erase(streamId);
    const erased = new Set<string>();
    const { state } = await this.executor.load(customerDecider, streamId);
    await this.eraseSubjects(samePersonSubjects(state), streamId, command.occurredAt, context, erased);
    const result = await this.executor.execute(customerDecider, streamId, command, context);
    this.executor.forgetSnapshots(streamId); // they hold the state as folded before: names, emails
    // A lead linked between the load and the append (a conversion racing the erasure) is in this state.
    await this.eraseSubjects(samePersonSubjects(result.state), streamId, command.occurredAt, context, erased);
    return { id: customerId, streamId, revision: result.revision, position: result.position };
  }

  /** A lead converted into this existing customer; linked to an erased customer (a conversion that raced the erasure), it is erased too. */
  private async link(streamId: string, command: LinkLead, context: CommandContext): Promise<CommandResult> {
    const result = await this.executor.execute(customerDecider, streamId, command, context);
    if (result.state.personalDataErased) {
      await this.eraseSubjects([streamIdOf('lead', command.data.leadId)], streamId, command.occurredAt, context, new Set());
    }
    return { id: command.data.customerId, streamId, revision: result.revision, position: result.position };
  }

  /** Erases `subjects`, the same person as the customer `streamId`, except those in `erased` (which it extends). */
  private async eraseSubjects(subjects: string[], streamId: string, occurredAt: string, context: CommandContext, erased: Set<string>): Promise<void> {
    for (const subject of subjects) {
      if (erased.has(subject)) continue;
      // Event ids derive from the person erased, so a retried erasure recognises its earlier appends.
      const sub = { ...context, idSeed: `erasure|${streamId}`, expectedRevision: undefined };
      if (categoryOf(subject) === 'lead') {
        await this.commandBus.execute(new LeadMessage({ type: 'EraseLeadPersonalData', data: { leadId: idOf(subject) }, occurredAt }, sub));
      } else {
        await this.commandBus.execute(new CustomerMessage({ type: 'EraseCustomerPersonalData', data: { customerId: idOf(subject) }, occurredAt }, sub));
      }
      erased.add(subject);
    }
  }
}
