import { daysWithin, dayWindow } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
import type { ReportDefinition } from '../common/report';
import { LEAD_FUNNEL_PROJECTION, readLeadFunnel, UNATTRIBUTED } from '../lead-funnel/projection';
import { tableRow } from '../common/table';

export interface LeadSourceCounts {
  /** Leads captured in the window. */
  captured: number;
  /** Of those, captured with a campaign. */
  fromCampaign: number;
  /** Of those, what became of them so far (qualified may later have converted or been disqualified). */
  qualified: number;
  disqualified: number;
  converted: number;
  /** Still new or qualified: captured − disqualified − converted. */
  open: number;
  /** Spend recorded in the window on this channel (directly or through a campaign of it). */
  spend: number;
}
export type LeadSourceRow = { source: string } & LeadSourceCounts & {
    /** converted / captured (null when none captured). */
    conversionRate: number | null;
    /** spend / captured (null when none captured). */
    costPerLead: number | null;
  };
export interface LeadSourcesReport {
  from: string;
  to: string;
  sources: LeadSourceRow[];
  totals: LeadSourceCounts & { conversionRate: number | null; costPerLead: number | null; unattributedSpend: number };
}

export const zeroLeadSourceCounts = (): LeadSourceCounts => ({
  captured: 0,
  fromCampaign: 0,
  qualified: 0,
  disqualified: 0,
  converted: 0,
  open: 0,
  spend: 0,
});

export function leadSourceFigures(c: LeadSourceCounts) {
  return {
    ...c,
    open: c.captured - c.disqualified - c.converted,
    spend: money(c.spend),
    conversionRate: rate(ratio(c.converted, c.captured)),
    costPerLead: c.captured === 0 ? null : money(c.spend / c.captured),
  };
}

/** Most leads first, then by name. */
export const bySourceRank = (a: LeadSourceRow, b: LeadSourceRow): number =>
  b.captured - a.captured || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);

/**
 * Per lead source, the leads captured in the window (whole UTC days) and what became of them so
 * far, with the spend recorded on that channel in the window and the cost per lead.
 */
export const leadSourcesReport = {
  name: 'lead-sources',
  description: 'Per lead source: leads captured, qualified, disqualified, converted, conversion rate, channel spend and cost per lead',
  projections: [LEAD_FUNNEL_PROJECTION],
  tables: {
    sources: (r: LeadSourcesReport) => r.sources.map((s) => tableRow(s)),
    totals: (r: LeadSourcesReport) => [tableRow({ from: r.from, to: r.to }, r.totals)],
  },
  async run(params, { readModels }): Promise<LeadSourcesReport> {
    const window = dayWindow(params);
    const bySource = new Map<string, LeadSourceCounts>();
    for (const doc of await readLeadFunnel(readModels, window.startMs, window.endMs)) {
      for (const [, day] of daysWithin(doc, window.startMs, window.endMs)) {
        let c = bySource.get(doc.source);
        if (!c) bySource.set(doc.source, (c = zeroLeadSourceCounts()));
        c.captured += day.captured;
        c.fromCampaign += day.fromCampaign;
        c.qualified += day.qualified;
        c.disqualified += day.disqualified;
        c.converted += day.converted;
        c.spend += day.spend;
      }
    }
    const unattributed = bySource.get(UNATTRIBUTED)?.spend ?? 0;
    bySource.delete(UNATTRIBUTED);
    const total = zeroLeadSourceCounts();
    for (const c of bySource.values()) {
      for (const k of ['captured', 'fromCampaign', 'qualified', 'disqualified', 'converted', 'spend'] as const) total[k] += c[k];
    }
    total.spend += unattributed;
    return {
      from: window.from,
      to: window.to,
      sources: [...bySource].map(([source, c]) => ({ source, ...leadSourceFigures(c) })).sort(bySourceRank),
      totals: { ...leadSourceFigures(total), unattributedSpend: money(unattributed) },
    };
  },
} satisfies ReportDefinition;
