import { Injectable } from '@nestjs/common';
import { LeadCaptured, LeadInteractionLogged, scoreLead, ScoringInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { LeadMessage } from '../messages';
import { AutomationProcessManager } from './automation-process-manager';
import { reactionContext } from './reaction-context';

/**
 * Re-scores a lead on every event that changes its score (capture, interactions): the lead's
 * history up to that event, scored at that event's business time, appended as LeadScored with
 * its reasons. Same history → same score and the same event id, so a re-run appends nothing.
 */
@Injectable()
export class ScoringProcessManager extends AutomationProcessManager {
  readonly checkpointName = 'process-manager:scoring';
  readonly eventTypes = ['LeadCaptured', 'LeadInteractionLogged'] as const;

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
