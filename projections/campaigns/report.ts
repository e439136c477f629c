import { daysWithin, dayWindow, readMonths } from '../common/buckets';
import { money } from '../common/numbers';
import type { ReportDefinition } from '../common/report';
import { tableRow } from '../common/table';
import { CampaignCounters, CampaignDocument, CampaignMonth, CAMPAIGNS_PROJECTION, NO_CAMPAIGN, zeroCampaignCounters } from './projection';
import { campaignFigures, CampaignFigures } from './query';

export type CampaignRow = {
  campaignId: string;
  name: string | null;
  channel: string | null;
  budget: number | null;
  launchedAt: string | null;
} & CampaignFigures;

export interface CampaignsReport {
  from: string;
  to: string;
  campaigns: CampaignRow[];
  /** Over the listed campaigns; `unattributedSpend` = spend recorded in the window without a campaign. */
  totals: CampaignFigures & { unattributedSpend: number };
}

const FIELDS = ['leads', 'convertedLeads', 'newCustomers', 'revenue', 'spend'] as const;

function addInto(into: CampaignCounters, from: CampaignCounters): void {
  for (const k of FIELDS) into[k] += from[k];
}

/** By name (code-point order; a campaign without one first), then by id. */
export const byCampaignName = (a: CampaignRow, b: CampaignRow): number => {
  const [x, y] = [a.name ?? '', b.name ?? ''];
  return x < y ? -1 : x > y ? 1 : a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : 0;
};

/**
 * Per campaign, the leads captured with it in the window (whole UTC days) and what came of them so
 * far — conversions, new customers, their revenue — against the campaign's spend recorded in the
 * window. Listed: every campaign with a lead captured, a spend recorded or its launch in the window.
 */
export const campaignsReport = {
  name: 'campaigns',
  description:
    'Per campaign: leads captured, converted, new customers and their revenue (so far), spend, cost per lead, CAC and ROI; unattributed spend',
  projections: [CAMPAIGNS_PROJECTION],
  tables: {
    campaigns: (r: CampaignsReport) => r.campaigns.map((c) => tableRow(c)),
    totals: (r: CampaignsReport) => [tableRow({ from: r.from, to: r.to }, r.totals)],
  },
  async run(params, { readModels }): Promise<CampaignsReport> {
    const window = dayWindow(params);
    const sums = new Map<string, CampaignCounters>();
    const months = await readModels.collection<CampaignMonth>(CAMPAIGNS_PROJECTION, 'months');
    for (const doc of await readMonths(months, window.startMs, window.endMs)) {
      for (const [, day] of daysWithin(doc, window.startMs, window.endMs)) {
        let c = sums.get(doc.campaignId);
        if (!c) sums.set(doc.campaignId, (c = zeroCampaignCounters()));
        addInto(c, day);
      }
    }
    const unattributed = sums.get(NO_CAMPAIGN)?.spend ?? 0;
    sums.delete(NO_CAMPAIGN);
    const campaigns = await readModels.collection<CampaignDocument>(CAMPAIGNS_PROJECTION, 'campaigns');
    // Campaigns launched in the window are listed even before their first lead or spend.
    const launched = await campaigns.find({ launchedAt: { $gte: window.from, $lt: window.to } });
    const docs = new Map(launched.map((d) => [d._id, d]));
    const missing = [...sums.keys()].filter((id) => !docs.has(id));
    if (missing.length > 0) for (const [id, d] of await campaigns.findByIds(missing)) docs.set(id, d);
    const total = zeroCampaignCounters();
    const rows = [...new Set([...docs.keys(), ...sums.keys()])].map((campaignId): CampaignRow => {
      const c = sums.get(campaignId) ?? zeroCampaignCounters();
      addInto(total, c);
      const doc = docs.get(campaignId);
      return {
        campaignId,
        name: doc?.name ?? null,
        channel: doc?.channel ?? null,
        budget: doc?.budget ?? null,
        launchedAt: doc?.launchedAt ?? null,
        ...campaignFigures(c),
      };
    });
    return {
      from: window.from,
      to: window.to,
      campaigns: rows.sort(byCampaignName),
      totals: { ...campaignFigures(total), unattributedSpend: money(unattributed) },
    };
  },
} satisfies ReportDefinition;
