import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { BusinessRuleViolation, campaignDecider, idOf, spendStreamId } from '@chronicle/domain';
import { ExpectedRevision } from '@chronicle/event-store';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import type { CommandResult } from '../command-context';
import { CommandExecutor } from '../command-executor';
import { CampaignMessage } from '../messages';

@CommandHandler(CampaignMessage)
export class CampaignHandler implements ICommandHandler<CampaignMessage, CommandResult> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ command, context }: CampaignMessage): Promise<CommandResult> {
    if (command.type === 'LaunchCampaign') {
      const streamId = `campaign-${command.data.campaignId}`;
      const result = await this.executor.execute(campaignDecider, streamId, command, context);
      return { id: idOf(streamId), streamId, revision: result.revision, position: result.position };
    }
    const streamId = spendStreamId(command.data);
    if (command.data.campaignId) {
      // Spend on a campaign needs the campaign (it must exist, and lends its channel). The campaign
      // is named in the body, not the path: an unknown one is a broken rule (422), as for a deal's customer.
      if ((await this.store.streamRevision(streamId)) < 0) {
        throw new BusinessRuleViolation(`campaignId: ${streamId} does not exist`, 'unknown-campaign');
      }
      const result = await this.executor.execute(campaignDecider, streamId, command, context);
      return { id: command.data.spendId, streamId, revision: result.revision, position: result.position };
    }
    // A channel's spend stream needs no state: decide on the initial state and append without reading it.
    const events = campaignDecider.decide(command, campaignDecider.initialState());
    const appended = await this.executor.append(streamId, events, context.expectedRevision ?? ExpectedRevision.Any, context);
    return { id: command.data.spendId, streamId, revision: appended.revision, position: appended.position };
  }
}
