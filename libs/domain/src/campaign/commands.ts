import type { Command } from '../common/decider';
import type { SpendCategory } from './events';

export type LaunchCampaign = Command<'LaunchCampaign', { campaignId: string; name: string; channel: string; budget?: number }>;
export type RecordSpend = Command<
  'RecordSpend',
  {
    spendId: string;
    amount: number;
    category: SpendCategory;
    channel?: string;
    campaignId?: string;
    description?: string;
  }
>;

export type CampaignCommand = LaunchCampaign | RecordSpend;
