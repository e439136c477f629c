import type { DomainEvent } from '../common/decider';

export const SpendCategories = ['marketing', 'sales'] as const;
export type SpendCategory = (typeof SpendCategories)[number];

export type CampaignLaunched = DomainEvent<'CampaignLaunched', { campaignId: string; name: string; channel: string; budget?: number }>;
/**
 * Spend lives in its campaign's stream, or, without a campaign, in `spend-<channel>`
 * (`spend-unattributed` when it has no channel either).
 */
export type SpendRecorded = DomainEvent<
  'SpendRecorded',
  {
    spendId: string;
    amount: number;
    category: SpendCategory;
    /** The spend's channel, or its campaign's; null = unattributed. */
    channel: string | null;
    campaignId?: string;
    description?: string;
  }
>;

export type CampaignEvent = CampaignLaunched | SpendRecorded;
