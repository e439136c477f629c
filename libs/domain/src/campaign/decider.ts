import { streamIdOf } from '../common/streams';
import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { assertAmount } from '../common/money';
import type { CampaignCommand } from './commands';
import type { CampaignEvent } from './events';
import { SpendCategories } from './events';

export const UNATTRIBUTED = 'unattributed';
const channelPattern = /^[a-z0-9][a-z0-9_.-]*$/;

export function assertChannel(field: string, channel: string): void {
  if (!channelPattern.test(channel)) throw new InvalidInput(field, 'must be a lower-case slug (a-z, 0-9, "-", "_", ".")');
}

/** Where a spend is stored: its campaign's stream, else its channel's spend stream. */
export function spendStreamId(spend: { campaignId?: string; channel?: string }): string {
  return spend.campaignId ? streamIdOf('campaign', spend.campaignId) : streamIdOf('spend', spend.channel ?? UNATTRIBUTED);
}

export interface CampaignState {
  exists: boolean;
  /** A campaign stream, or a channel's spend stream (which needs no launch). */
  kind: 'campaign' | 'channel';
  campaignId?: string;
  name?: string;
  channel?: string;
  budget?: number;
  launchedAt?: string;
  spend: { count: number; total: number };
}

export const initialCampaignState = (): CampaignState => ({ exists: false, kind: 'channel', spend: { count: 0, total: 0 } });

export const campaignDecider: Decider<CampaignState, CampaignCommand, CampaignEvent> = {
  initialState: initialCampaignState,

  decide(command, state) {
    const { occurredAt } = command;
    switch (command.type) {
      case 'LaunchCampaign': {
        const d = command.data;
        if (state.exists) throw new AggregateAlreadyExists(streamIdOf('campaign', d.campaignId));
        if (!d.name.trim()) throw new InvalidInput('name', 'must not be empty');
        assertChannel('channel', d.channel);
        if (d.budget !== undefined) assertAmount('budget', d.budget);
        return [{ type: 'CampaignLaunched', data: { ...d }, occurredAt }];
      }
      case 'RecordSpend': {
        const d = command.data;
        assertAmount('amount', d.amount);
        if (!SpendCategories.includes(d.category)) throw new InvalidInput('category', `must be one of ${SpendCategories.join(', ')}`);
        if (d.channel !== undefined) assertChannel('channel', d.channel);
        let channel: string | null = d.channel ?? null;
        if (d.campaignId !== undefined) {
          if (!state.exists) throw new AggregateNotFound(streamIdOf('campaign', d.campaignId));
          // Spend on a campaign counts for the campaign's channel unless the spend names its own.
          channel = d.channel ?? state.channel ?? null;
        }
        return [{ type: 'SpendRecorded', data: JSON.parse(JSON.stringify({ ...d, channel })), occurredAt }];
      }
      default: {
        const unknown: never = command;
        throw new BusinessRuleViolation(`unknown command ${(unknown as { type: string }).type}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'CampaignLaunched':
        return { ...state, ...event.data, exists: true, kind: 'campaign', launchedAt: event.occurredAt };
      case 'SpendRecorded':
        return { ...state, spend: { count: state.spend.count + 1, total: state.spend.total + event.data.amount } };
      default:
        return state;
    }
  },
};
