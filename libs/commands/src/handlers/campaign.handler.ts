import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { BusinessRuleViolation, CampaignCommand, CampaignEvent, CampaignState, idOf, spendStreamId, streamIdOf } from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpecs } from '../command-spec';
import { CampaignMessage } from '../messages';

const decider = (env: CommandEnvironment) => env.deciders.campaign;

export const campaignCommands: CommandSpecs<CampaignState, CampaignCommand, CampaignEvent> = {
  LaunchCampaign: {
    stream: (command) => streamIdOf('campaign', command.data.campaignId),
    decider,
    result: (_, streamId) => ({ id: idOf(streamId) }),
  },
  /**
   * Spend on a campaign needs the campaign (it must exist, and lends its channel): its state. A
   * channel's spend stream needs no state: decided on the initial state, appended without reading it.
   */
  RecordSpend: {
    stream: (command) => spendStreamId(command.data),
    load: (_, command) => (command.data.campaignId ? 'state' : 'none'),
    decider,
    // The campaign is named in the body, not the path: an unknown one is a broken rule (422), as for a deal's customer.
    check: async (command, _, env) => {
      const streamId = spendStreamId(command.data);
      if (command.data.campaignId && (await env.store.streamRevision(streamId)) < 0) {
        throw new BusinessRuleViolation(`campaignId: ${streamId} does not exist`, 'unknown-campaign');
      }
    },
    result: (command) => ({ id: command.data.spendId }),
  },
};

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(CampaignMessage)
export class CampaignHandler implements ICommandHandler<CampaignMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: CampaignMessage): Promise<CommandResult> {
    return this.env.run(campaignCommands, message);
  }
}
