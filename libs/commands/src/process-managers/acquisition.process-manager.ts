import { Inject, Injectable, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { RoleCoordinator } from '@chronicle/cluster';
import {
  customerDecider,
  CustomerEvent,
  customerFromLead,
  DealWon,
  fold,
  leadDecider,
  LeadEvent,
  onDealWon,
  streamIdOf,
} from '@chronicle/domain';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { COORDINATOR, EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';
import { toDomainEvent } from '../command-executor';
import { recordOnSurvivor } from '../handlers/merge';
import { CustomerMessage } from '../messages';
import { FeedProcessManager } from './feed-process-manager';
import type { ProcessManagerState } from './feed-process-manager';
import { LINK_LEAD, reactionContext } from './reaction-context';

export const PROCESS_MANAGERS_ENABLED = Symbol('ProcessManagersEnabled');

/**
 * Reads DealWon and LeadConverted from the event store's feed (never the in-memory EventBus) and
 * makes sure each one's customer is acquired / registered (or, converted into an existing
 * customer, names the lead on its stream: CustomerLeadLinked), and that each merge and unmerge
 * decided on a merged customer's stream is recorded on its survivor's (docs/merging.md). The command handlers already do this
 * inline; this is the at-least-once safety net for a crash in between. Every reaction is
 * idempotent (decider rules plus event ids derived from the cause), and the checkpoint is saved
 * only after a batch's reactions succeeded.
 */
@Injectable()
export class AcquisitionProcessManager extends FeedProcessManager {
  static readonly checkpointName = 'process-manager:acquisition';
  readonly checkpointName = AcquisitionProcessManager.checkpointName;
  readonly eventTypes = ['DealWon', 'LeadConverted', 'CustomerMerged', 'CustomerUnmerged'] as const;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(STATE_STORE) checkpoints: ProcessManagerState,
    @Inject(PROCESS_MANAGERS_ENABLED) enabled: boolean,
    private readonly commandBus: CommandBus,
    @Optional() @Inject(COORDINATOR) coordinator?: RoleCoordinator | null,
  ) {
    super(store, checkpoints, enabled, coordinator);
  }

  protected async handle(event: RecordedEvent): Promise<void> {
    if (event.type === 'CustomerMerged' || event.type === 'CustomerUnmerged') {
      await recordOnSurvivor(event as Parameters<typeof recordOnSurvivor>[0], event.correlationId, {
        load: async (streamId) =>
          fold(
            customerDecider,
            (await this.store.readStream(streamId)).map((e) => toDomainEvent<CustomerEvent>(e)),
          ),
        send: (message) => this.commandBus.execute(message),
      });
    } else if (event.type === 'DealWon') {
      const command = onDealWon(toDomainEvent<DealWon>(event));
      await this.commandBus.execute(new CustomerMessage(command, reactionContext(event.eventId, event.correlationId)));
    } else if (event.type === 'LeadConverted') {
      const { customerId, leadId } = event.data as { customerId: string; leadId: string };
      if ((await this.store.streamRevision(streamIdOf('customer', customerId))) >= 0) {
        // Converted into an existing customer (or registered already): the customer's stream names the lead (a no-op if it does).
        const link = { type: 'LinkLead' as const, data: { customerId, leadId }, occurredAt: event.occurredAt };
        await this.commandBus.execute(new CustomerMessage(link, reactionContext(event.eventId, event.correlationId, LINK_LEAD)));
        return;
      }
      const history = await this.store.readStream(event.streamId, { maxCount: event.streamRevision + 1 });
      const lead = fold(
        leadDecider,
        history.map((e) => toDomainEvent<LeadEvent>(e)),
      );
      const command = customerFromLead(lead, customerId, event.occurredAt);
      await this.commandBus.execute(new CustomerMessage(command, reactionContext(event.eventId, event.correlationId)));
    }
  }
}
