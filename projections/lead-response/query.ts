import { dayWindow } from '../common/buckets';
import { durationDays, rate, ratio } from '../common/numbers';
import type { ReportDefinition, ReportParams, ReportContext } from '../common/report';
import { tableRow } from '../common/table';
import { LEAD_RESPONSE_PROJECTION, LeadResponseDocument, readLeadResponses } from './projection';

export const LEAD_RESPONSE_GROUPS = ['owner', 'source'] as const;
export type LeadResponseGroupBy = (typeof LEAD_RESPONSE_GROUPS)[number];

export interface LeadResponseStats {
  key: string;
  /** Leads captured in the window. */
  leads: number;
  /** Of those, answered so far. */
  responded: number;
  /** responded ÷ leads. */
  responseRate: number | null;
  medianDays: number | null;
  p90Days: number | null;
  avgDays: number | null;
}

export interface LeadResponseReport {
  from: string;
  to: string;
  overall: LeadResponseStats;
  groups: LeadResponseStats[];
}

/**
 * Figures of a set of leads from their response times in ms (null: not answered). As sales-cycle
 * computes them: the mean from the exact integer sum, median and nearest-rank p90 of the days.
 */
export function responseStats(key: string, times: readonly (number | null)[]): LeadResponseStats {
  const answered = times.filter((ms): ms is number => ms !== null);
  const { avgDays, medianDays, p90Days } = durationDays(answered);
  return {
    key,
    leads: times.length,
    responded: answered.length,
    responseRate: rate(ratio(answered.length, times.length)),
    medianDays,
    p90Days,
    avgDays,
  };
}

/** Who an answered lead counts for: the owner when it was answered; an open one, its current owner. */
export const responseOwner = (lead: Pick<LeadResponseDocument, 'owner' | 'r' | 'by'>): string =>
  (lead.r === null ? lead.owner : lead.by) ?? 'unassigned';

/**
 * GET /reports/lead-response?from&to&groupBy=owner|source — the leads captured in the window
 * (whole UTC days) and how long until each was first answered (docs/reports.md).
 */
export async function buildLeadResponseReport(
  params: Pick<ReportParams, 'from' | 'to' | 'groupBy'>,
  context: Pick<ReportContext, 'readModels'>,
): Promise<LeadResponseReport> {
  const window = dayWindow(params);
  const groupBy = params.groupBy as LeadResponseGroupBy | undefined;
  const leads = await readLeadResponses(context.readModels, window.startMs, window.endMs);
  const time = (lead: LeadResponseDocument) => (lead.r === null ? null : lead.r - lead.t);
  const groups = new Map<string, (number | null)[]>();
  if (groupBy) {
    for (const lead of leads) {
      const key = groupBy === 'owner' ? responseOwner(lead) : lead.source;
      const times = groups.get(key);
      if (times) times.push(time(lead));
      else groups.set(key, [time(lead)]);
    }
  }
  return {
    from: window.from,
    to: window.to,
    overall: responseStats('all', leads.map(time)),
    groups: [...groups.keys()].sort().map((key) => responseStats(key, groups.get(key)!)),
  };
}

export const leadResponseReport = {
  name: 'lead-response',
  description:
    'Leads captured in the window (whole days): how many were answered (a seller contact or an owner task completed) and the days from capture to the first answer (median, p90, mean), overall and per owner or source',
  projections: [LEAD_RESPONSE_PROJECTION],
  groupBy: LEAD_RESPONSE_GROUPS,
  tables: {
    groups: (r: LeadResponseReport) => [r.overall, ...r.groups].map((g) => tableRow(g)),
  },
  run: (params, context) => buildLeadResponseReport(params, context),
} satisfies ReportDefinition;
