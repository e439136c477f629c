import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { customerFromLead, DealWon, DomainError, fold, leadDecider, LeadEvent, onDealWon } from '@chronicle/domain';
import type { EventStore, RecordedEvent, Subscription } from '@chronicle/event-store';
import { CheckpointStore, EVENT_STORE, STATE_STORE } from '@chronicle/shared';
import { toDomainEvent } from '../command-executor';
import { CustomerMessage } from '../messages';
import { reactionContext } from './reaction-context';

export const PROCESS_MANAGERS_ENABLED = Symbol('ProcessManagersEnabled');

/**
 * Reads DealWon and LeadConverted from the event store's feed (never the in-memory EventBus) and
 * makes sure each one's customer is acquired / registered. The command handlers already do this
 * inline; this is the at-least-once safety net for a crash in between. Every reaction is
 * idempotent (decider rules plus event ids derived from the cause), and the checkpoint is saved
 * only after a batch's reactions succeeded.
 */
@Injectable()
export class AcquisitionProcessManager implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly checkpointName = 'process-manager:acquisition';
  private readonly logger = new Logger(AcquisitionProcessManager.name);
  private subscription?: Subscription;
  private running?: Promise<void>;
  private position = 0;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(STATE_STORE) private readonly checkpoints: CheckpointStore,
    @Inject(PROCESS_MANAGERS_ENABLED) private readonly enabled: boolean,
    private readonly commandBus: CommandBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.enabled) this.running = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.close();
    await this.running;
  }

  /** Position of the last event handled (for status and tests). */
  get checkpoint(): number {
    return this.position;
  }

  private async run(): Promise<void> {
    this.position = await this.checkpoints.loadCheckpoint(AcquisitionProcessManager.checkpointName);
    this.subscription = this.store.subscribeToAll({ fromPosition: this.position, filter: { types: ['DealWon', 'LeadConverted'] }, maxBatch: 100 });
    try {
      for await (const page of this.subscription) {
        for (const event of page.events) await this.react(event);
        await this.checkpoints.saveCheckpoint(AcquisitionProcessManager.checkpointName, page.checkpoint);
        this.position = page.checkpoint;
      }
    } catch (error) {
      this.logger.error(`stopped at position ${this.position}: ${(error as Error).message}`);
    }
  }

  private async react(event: RecordedEvent): Promise<void> {
    try {
      if (event.type === 'DealWon') {
        const command = onDealWon(toDomainEvent<DealWon>(event));
        await this.commandBus.execute(new CustomerMessage(command, reactionContext(event.eventId, event.correlationId)));
      } else if (event.type === 'LeadConverted') {
        const { customerId } = event.data as { customerId: string };
        if ((await this.store.streamRevision(`customer-${customerId}`)) >= 0) return;
        const history = await this.store.readStream(event.streamId, { maxCount: event.streamRevision + 1 });
        const lead = fold(leadDecider, history.map((e) => toDomainEvent<LeadEvent>(e)));
        const command = customerFromLead(lead, customerId, event.occurredAt);
        await this.commandBus.execute(new CustomerMessage(command, reactionContext(event.eventId, event.correlationId)));
      }
    } catch (error) {
      // A rule the reaction cannot satisfy will not change on retry: log it and move on.
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`reaction to ${event.type} ${event.eventId} refused: ${error.message}`);
    }
  }
}
