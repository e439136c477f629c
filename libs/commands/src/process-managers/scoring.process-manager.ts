import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { LeadCaptured, LeadInteractionLogged, scoreLead, ScoringInput } from '@chronicle/domain';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { CheckpointStore, ChronicleConfig, CONFIG, EVENT_STORE, STATE_STORE } from '@chronicle/shared';
import { LeadMessage } from '../messages';
import { PROCESS_MANAGERS_ENABLED } from './acquisition.process-manager';
import { FeedProcessManager } from './feed-process-manager';
import { reactionContext } from './reaction-context';

/**
 * Re-scores a lead on every event that changes its score (capture, interactions): the lead's
 * history up to that event, scored at that event's business time, appended as LeadScored with
 * its reasons. Same history → same score and the same event id, so a re-run appends nothing.
 */
@Injectable()
export class ScoringProcessManager extends FeedProcessManager {
  readonly checkpointName = 'process-manager:scoring';
  readonly eventTypes = ['LeadCaptured', 'LeadInteractionLogged'] as const;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(STATE_STORE) checkpoints: CheckpointStore,
    @Inject(PROCESS_MANAGERS_ENABLED) enabled: boolean,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
    private readonly commandBus: CommandBus,
  ) {
    super(store, checkpoints, enabled);
  }

  protected override active(): boolean {
    return this.config.automation;
  }

  protected async handle(event: RecordedEvent, live: boolean): Promise<void> {
    if (!live) return;
    const history = await this.store.readStream(event.streamId, { maxCount: event.streamRevision + 1 });
    const captured = history.find((e) => e.type === 'LeadCaptured') as RecordedEvent<LeadCaptured['data']> | undefined;
    if (!captured) return;
    const input: ScoringInput = {
      source: captured.data.source,
      campaignId: captured.data.campaignId,
      attributes: captured.data.attributes,
      interactions: history
        .filter((e) => e.type === 'LeadInteractionLogged')
        .map((e) => ({ type: (e as RecordedEvent<LeadInteractionLogged['data']>).data.type, occurredAt: e.occurredAt })),
    };
    const { score, reasons } = scoreLead(input, this.config.scoring, Date.parse(event.occurredAt));
    const leadId = captured.data.leadId;
    const command = { type: 'ScoreLead' as const, data: { leadId, score, reasons }, occurredAt: event.occurredAt };
    await this.commandBus.execute(new LeadMessage(command, reactionContext(event.eventId, event.correlationId, 'scoring')));
  }
}
