import { InteractionTypes, LeadInteractionTypes } from '@chronicle/domain';
import { daysWithin } from '../common/buckets';
import { rate } from '../common/numbers';
import { Interval, periodIndex, periods, rangeOf } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { tableRow } from '../common/table';
import { ENGAGEMENT_PROJECTION, EngagementCounters, readEngagement } from './projection';

/** Interactions by type: every listed type (zeros included), any other type met, then `all` (their sum). */
export type ByType = Record<string, number>;
/** An average per type (same keys as ByType); null when there is no record to divide by. */
export type PerType = Record<string, number | null>;

export interface EngagementFigures {
  /** Deals closed (won or lost) and, of them, won. */
  deals: number;
  wonDeals: number;
  /** Interactions on the deals closed, dated up to their close; ÷ deals. */
  dealInteractions: ByType;
  perDeal: PerType;
  /** The same for the deals won only; ÷ wonDeals. */
  wonDealInteractions: ByType;
  perWonDeal: PerType;
  /** Leads closed (converted or disqualified) and, of them, converted. */
  leads: number;
  convertedLeads: number;
  /** Interactions on the leads closed, dated up to their close; ÷ leads. */
  leadInteractions: ByType;
  perLead: PerType;
  /** The same for the leads converted only; ÷ convertedLeads. */
  convertedLeadInteractions: ByType;
  perConvertedLead: PerType;
}
export type EngagementPeriod = { start: string; end: string } & EngagementFigures;
export interface EngagementSeries {
  periods: EngagementPeriod[];
  /** Over the whole range. */
  total: EngagementFigures;
}
export interface EngagementReport extends EngagementSeries {
  interval: Interval;
  /** Every owner with a deal or lead closed in the range, by ownerId (code-point order); `unassigned` for none. */
  owners: ({ ownerId: string } & EngagementSeries)[];
}

/** Sums of day counters. */
interface Counts {
  deals: number;
  won: number;
  dealTouches: Record<string, number>;
  wonTouches: Record<string, number>;
  leads: number;
  converted: number;
  leadTouches: Record<string, number>;
  convertedTouches: Record<string, number>;
}

const zero = (): Counts => ({
  deals: 0,
  won: 0,
  dealTouches: {},
  wonTouches: {},
  leads: 0,
  converted: 0,
  leadTouches: {},
  convertedTouches: {},
});

const TOUCHES = ['dealTouches', 'wonTouches', 'leadTouches', 'convertedTouches'] as const;

function addCounts(into: Counts, from: EngagementCounters | Counts): void {
  into.deals += from.deals ?? 0;
  into.won += from.won ?? 0;
  into.leads += from.leads ?? 0;
  into.converted += from.converted ?? 0;
  for (const field of TOUCHES) {
    const touches = from[field];
    for (const type in touches) into[field][type] = (into[field][type] ?? 0) + touches[type];
  }
}

/** Every listed type (in list order, zeros included), then other types met (by name), then `all`. */
export function byType(listed: readonly string[], touches: Readonly<Record<string, number>>): ByType {
  const out: ByType = {};
  let all = 0;
  for (const type of listed) all += out[type] = touches[type] ?? 0;
  let others: string[] | undefined;
  for (const type in touches) if (!Object.hasOwn(out, type)) (others ??= []).push(type);
  if (others) for (const type of others.sort()) all += out[type] = touches[type];
  out.all = all;
  return out;
}

/** Each count ÷ the number of records, rounded as rates are (4 decimals); null for none. */
/** Built in a plain loop, the zeros without rounding: a weekly report by owner makes thousands of these. */
export function perRecord(totals: ByType, records: number): PerType {
  const out: PerType = {};
  for (const type in totals) out[type] = records === 0 ? null : totals[type] === 0 ? 0 : rate(totals[type] / records);
  return out;
}

/** The figures of a period without closes (most cells of a weekly report by owner): built once, never changed. */
let noCloses: EngagementFigures | undefined;

export function engagementFigures(c: Counts): EngagementFigures {
  // Interactions count only on closed records: without any, every count is 0 and every average null.
  if (c.deals === 0 && c.leads === 0) return (noCloses ??= Object.freeze(figuresOf(zero())));
  return figuresOf(c);
}

function figuresOf(c: Counts): EngagementFigures {
  const dealInteractions = byType(InteractionTypes, c.dealTouches);
  const wonDealInteractions = byType(InteractionTypes, c.wonTouches);
  const leadInteractions = byType(LeadInteractionTypes, c.leadTouches);
  const convertedLeadInteractions = byType(LeadInteractionTypes, c.convertedTouches);
  return {
    deals: c.deals,
    wonDeals: c.won,
    dealInteractions,
    perDeal: perRecord(dealInteractions, c.deals),
    wonDealInteractions,
    perWonDeal: perRecord(wonDealInteractions, c.won),
    leads: c.leads,
    convertedLeads: c.converted,
    leadInteractions,
    perLead: perRecord(leadInteractions, c.leads),
    convertedLeadInteractions,
    perConvertedLead: perRecord(convertedLeadInteractions, c.converted),
  };
}

/**
 * GET /reports/engagement?from&to&interval — per period [start, end), the deals and leads closed
 * in it (by the close's `occurredAt`) and the interactions it took: per type, in total and per
 * record, overall and per owner at the close (docs/reports.md).
 */
export async function buildEngagementReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval'>,
  context: Pick<ReportContext, 'readModels'>,
): Promise<EngagementReport> {
  const list = periods(params.from, params.to, params.interval);
  const fresh = (): Counts[] => list.map(zero);
  const overall = fresh();
  const owners = new Map<string, Counts[]>();
  if (list.length > 0) {
    const startMs = list[0].startMs;
    const endMs = list[list.length - 1].endMs;
    for (const doc of await readEngagement(context.readModels, startMs, endMs)) {
      let series = owners.get(doc.ownerId);
      if (!series) owners.set(doc.ownerId, (series = fresh()));
      for (const [dayMs, c] of daysWithin(doc, startMs, endMs)) addCounts(series[periodIndex(list, dayMs)], c);
    }
    // Everyone's figures are the owners' summed: once per owner and period, not once more per day.
    for (const series of owners.values()) series.forEach((c, slot) => c.deals + c.leads > 0 && addCounts(overall[slot], c));
  }
  const seriesOf = (counts: Counts[]): EngagementSeries => {
    const total = zero();
    const rows = list.map((period, i) => {
      addCounts(total, counts[i]);
      return { start: period.start, end: period.end, ...engagementFigures(counts[i]) };
    });
    return { periods: rows, total: engagementFigures(total) };
  };
  return {
    interval: params.interval,
    ...seriesOf(overall),
    owners: [...owners]
      .filter(([, counts]) => counts.some((c) => c.deals + c.leads > 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([ownerId, counts]) => ({ ownerId, ...seriesOf(counts) })),
  };
}

export const engagementReport = {
  name: 'engagement',
  description:
    'Per period: deals closed (won or lost) and leads closed (converted or disqualified) by their close, and the interactions logged on them up to the close, per type: totals and per deal, per won deal, per lead and per converted lead; overall and per owner at the close',
  projections: [ENGAGEMENT_PROJECTION],
  tables: {
    periods: (r: EngagementReport) => r.periods.map((p) => tableRow(p)),
    owners: (r: EngagementReport) => r.owners.flatMap((o) => o.periods.map((p) => tableRow({ ownerId: o.ownerId }, p))),
    total: (r: EngagementReport) => [tableRow(rangeOf(r.periods), r.total)],
    ownerTotals: (r: EngagementReport) => r.owners.map((o) => tableRow({ ownerId: o.ownerId }, rangeOf(r.periods), o.total)),
  },
  run: (params, context) => buildEngagementReport(params, context),
} satisfies ReportDefinition;
