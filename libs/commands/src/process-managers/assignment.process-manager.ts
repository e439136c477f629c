import { Injectable } from '@nestjs/common';
import {
  AssignmentBookState,
  chooseOwner,
  CustomerRegistered,
  foldAssignmentBook,
  initialAssignmentBook,
  LeadCaptured,
} from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { CustomerMessage, LeadMessage } from '../messages';
import { AutomationProcessManager, automates } from './automation-process-manager';
import { reactionContext } from './reaction-context';

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Assigns new leads (and customers registered without an owner) by the configured strategy. The
 * choice comes from its own book, folded from the feed in order (open leads and deals per rep,
 * the round-robin pointers), so 100 leads captured at once still go 34/33/33. The command is an
 * assignment "if unassigned": a manager's override is never undone, and a re-run is a no-op.
 */
@Injectable()
export class AssignmentProcessManager extends AutomationProcessManager {
  readonly checkpointName = 'process-manager:assignment';
  readonly eventTypes = [
    'LeadCaptured',
    'LeadAssigned',
    'LeadConverted',
    'LeadDisqualified',
    'CustomerRegistered',
    'DealOpened',
    'DealWon',
    'DealLost',
    'DealReopened',
  ] as const;
  protected override readonly folds = true;
  private book: AssignmentBookState = initialAssignmentBook();

  protected override active(): boolean {
    return this.config.automation && this.config.assignment.strategy !== 'off';
  }

  protected override reset(): void {
    this.book = initialAssignmentBook();
  }

  protected async handle(event: RecordedEvent, live: boolean): Promise<void> {
    const context = () => reactionContext(event.eventId, event.correlationId, 'assignment');
    // Imported history without automation: no owner will be chosen, so none is counted either.
    if ((event.type === 'LeadCaptured' || event.type === 'CustomerRegistered') && !automates(event)) return;
    if (event.type === 'LeadCaptured') {
      const d = event.data as LeadCaptured['data'];
      const choice = chooseOwner(this.config.assignment, this.book, {
        region: text(d.attributes?.region),
        industry: text(d.attributes?.industry),
        at: Date.parse(event.occurredAt),
      });
      if (!choice) return;
      // Counted at once: the LeadAssigned it causes comes later in the feed (and sets the same owner).
      foldAssignmentBook(this.book, { type: 'LeadAssigned', data: { leadId: d.leadId, ownerId: choice.ownerId } });
      if (!live) return;
      const command = {
        type: 'AssignLead' as const,
        data: { leadId: d.leadId, ...choice, ifUnassigned: true },
        occurredAt: event.occurredAt,
      };
      await this.commandBus.execute(new LeadMessage(command, context()));
      return;
    }
    if (event.type === 'CustomerRegistered') {
      const d = event.data as CustomerRegistered['data'];
      if (d.ownerId !== undefined || !this.config.assignment.customers) return;
      const choice = chooseOwner(this.config.assignment, this.book, {
        region: d.region,
        industry: d.industry,
        at: Date.parse(event.occurredAt),
      });
      if (!choice || !live) return;
      const command = {
        type: 'AssignCustomerOwner' as const,
        data: { customerId: d.customerId, ...choice, ifUnassigned: true },
        occurredAt: event.occurredAt,
      };
      await this.commandBus.execute(new CustomerMessage(command, context()));
      return;
    }
    foldAssignmentBook(this.book, event);
  }
}
