import type { Filter } from '@chronicle/read-store';
import { oneOf, Page, pageWindow, parseSort, text } from '../common/listing';
import { money, rate, ratio } from '../common/numbers';
import type { ReadModelAccess } from '../common/report';
import { CampaignCounters, CampaignDocument, CAMPAIGNS_PROJECTION } from './projection';

export const CAMPAIGN_SORTS = ['-launchedAt', 'launchedAt', 'name', '-name'] as const;
export type CampaignSort = (typeof CAMPAIGN_SORTS)[number];

/** The ratios of docs/reports.md "campaigns", from a campaign's (or the totals') counters. */
export interface CampaignFigures extends CampaignCounters {
  /** spend ÷ leads. */
  costPerLead: number | null;
  /** spend ÷ newCustomers. */
  cac: number | null;
  /** (revenue − spend) ÷ spend. */
  roi: number | null;
}

/** An item of `GET /campaigns`: the campaign and its lifetime figures (every lead, customer and spend so far). */
export type CampaignView = {
  id: string;
  name: string | null;
  channel: string | null;
  budget: number | null;
  launchedAt: string | null;
} & CampaignFigures;

export interface ListCampaignsParams {
  channel?: string;
  /** Default `-launchedAt` (newest first). */
  sort?: string;
  limit?: number;
  offset?: number;
}

/** Money rounded, ratios of the unrounded sums (null for a zero denominator). */
export function campaignFigures(c: CampaignCounters): CampaignFigures {
  const costPerLead = ratio(c.spend, c.leads);
  const cac = ratio(c.spend, c.newCustomers);
  return {
    leads: c.leads,
    convertedLeads: c.convertedLeads,
    newCustomers: c.newCustomers,
    revenue: money(c.revenue),
    spend: money(c.spend),
    costPerLead: costPerLead === null ? null : money(costPerLead),
    cac: cac === null ? null : money(cac),
    roi: rate(ratio(c.revenue - c.spend, c.spend)),
  };
}

export function toCampaignView(doc: CampaignDocument): CampaignView {
  return {
    id: doc._id,
    name: doc.name,
    channel: doc.channel,
    budget: doc.budget,
    launchedAt: doc.launchedAt,
    ...campaignFigures(doc),
  };
}

const SORT_FIELD: Record<string, string> = { launchedAt: 'launchedAt', name: 'sortName' };

/**
 * Campaigns, filtered by channel, newest launch first (or by launch or name either way). The
 * filter and every sort are on indexed fields; ties go to the id. Campaigns are few (one per
 * marketing effort, not per event), so the total is a count on the channel index.
 */
export async function listCampaigns(access: ReadModelAccess, params: ListCampaignsParams = {}): Promise<Page<CampaignView>> {
  const { limit, offset } = pageWindow(params);
  const filter: Filter = {};
  const channel = text('channel', params.channel);
  if (channel !== undefined) filter.channel = channel;
  const { field, direction } = parseSort(oneOf('sort', params.sort, CAMPAIGN_SORTS) ?? '-launchedAt');
  const collection = await access.collection<CampaignDocument>(CAMPAIGNS_PROJECTION, 'campaigns');
  const [docs, total] = await Promise.all([
    collection.find(filter, { sort: { [SORT_FIELD[field]]: direction }, skip: offset, limit }),
    collection.count(filter),
  ]);
  return { items: docs.map(toCampaignView), total, limit, offset };
}
