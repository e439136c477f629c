import { DAY_MS, days, rate, ratio } from '../common/numbers';
import { daysWithin } from '../common/buckets';
import { periodIndex, periods } from '../common/periods';
import type { ReportDefinition, ReportParams } from '../common/report';
import { LEAD_FUNNEL_PROJECTION, readLeadFunnel } from '../lead-funnel/projection';
import { tableRow } from '../common/table';

/** Conversion figures of a set of leads (a cohort: the leads captured in a period). */
export interface ConversionFigures {
  captured: number;
  /** Leads of the cohort converted so far (at any time up to now). */
  converted: number;
  /** converted / captured; null when none were captured. */
  conversionRate: number | null;
  /** Mean days from capture to conversion over the converted leads; null when none converted. */
  avgDaysToConvert: number | null;
}
export type SourceConversion = { source: string } & ConversionFigures;
export interface ConversionPeriod extends ConversionFigures {
  start: string;
  end: string;
  bySource?: SourceConversion[];
}
export interface ConversionReport {
  interval: string;
  periods: ConversionPeriod[];
  total: ConversionFigures & { bySource?: SourceConversion[] };
}

/** Counters behind the figures; exact integers, so the order of adding them does not matter. */
export interface ConversionCounts {
  captured: number;
  converted: number;
  convertMs: number;
}

export const zeroCounts = (): ConversionCounts => ({ captured: 0, converted: 0, convertMs: 0 });

export function conversionFigures(c: ConversionCounts): ConversionFigures {
  return {
    captured: c.captured,
    converted: c.converted,
    conversionRate: rate(ratio(c.converted, c.captured)),
    avgDaysToConvert: days(c.converted === 0 ? null : c.convertMs / c.converted / DAY_MS),
  };
}

/** Builds the response from counters per period and source (shared with the reference fold). */
export function conversionResponse(
  params: ReportParams,
  list: { start: string; end: string }[],
  counts: Map<string, ConversionCounts>[],
): ConversionReport {
  const grouped = params.groupBy === 'source';
  const sources = [...new Set(counts.flatMap((m) => [...m.keys()]))].sort();
  const sum = (maps: Map<string, ConversionCounts>[], source?: string): ConversionCounts => {
    const total = zeroCounts();
    for (const m of maps) {
      for (const [s, c] of m) {
        if (source !== undefined && s !== source) continue;
        total.captured += c.captured;
        total.converted += c.converted;
        total.convertMs += c.convertMs;
      }
    }
    return total;
  };
  const bySource = (maps: Map<string, ConversionCounts>[]) =>
    sources.map((source) => ({ source, ...conversionFigures(sum(maps, source)) }));
  return {
    interval: params.interval,
    periods: list.map((p, i) => ({
      start: p.start,
      end: p.end,
      ...conversionFigures(sum([counts[i]])),
      ...(grouped ? { bySource: bySource([counts[i]]) } : {}),
    })),
    total: { ...conversionFigures(sum(counts)), ...(grouped ? { bySource: bySource(counts) } : {}) },
  };
}

/**
 * Leads captured per period (by source) and what share of them has converted: a cohort report.
 * A lead counts in the period of its capture; its conversion counts whenever it happened.
 */
export const conversionReport = {
  name: 'conversion',
  description: 'Leads captured per period (optionally by source): how many converted, conversion rate, average days to convert',
  projections: [LEAD_FUNNEL_PROJECTION],
  groupBy: ['source'],
  tables: {
    periods: (r: ConversionReport) => r.periods.map(({ bySource: _, ...p }) => tableRow(p)),
    sources: (r: ConversionReport) => r.periods.flatMap((p) => (p.bySource ?? []).map((s) => tableRow({ start: p.start, end: p.end }, s))),
    total: (r: ConversionReport) => [tableRow({ ...r.total, bySource: undefined })],
    sourceTotals: (r: ConversionReport) => (r.total.bySource ?? []).map((s) => tableRow(s)),
  },
  async run(params, { readModels }): Promise<ConversionReport> {
    const list = periods(params.from, params.to, params.interval);
    const counts = list.map(() => new Map<string, ConversionCounts>());
    if (list.length > 0) {
      const [startMs, endMs] = [list[0].startMs, list[list.length - 1].endMs];
      for (const doc of await readLeadFunnel(readModels, startMs, endMs)) {
        for (const [dayMs, day] of daysWithin(doc, startMs, endMs)) {
          if (day.captured === 0) continue; // spend only
          const i = periodIndex(list, dayMs);
          let c = counts[i].get(doc.source);
          if (!c) counts[i].set(doc.source, (c = zeroCounts()));
          c.captured += day.captured;
          c.converted += day.converted;
          c.convertMs += day.convertMs;
        }
      }
    }
    return conversionResponse(params, list, counts);
  },
} satisfies ReportDefinition;
