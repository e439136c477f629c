import type { RecordedEvent } from '@chronicle/event-store';
import { DAY_MS, days, rate, ratio } from '../common/numbers';
import { periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { ConversionFigures, ConversionReport } from './query';

interface Lead {
  capturedMs: number;
  source: string;
  convertedMs?: number;
}

/** The conversion report folded straight from the raw events (test oracle). */
export function conversionReference(events: RecordedEvent[], params: ReportParams): ConversionReport {
  const leads = new Map<string, Lead>();
  for (const e of events) {
    const d = e.data as { leadId: string; source: string };
    if (e.type === 'LeadCaptured') leads.set(d.leadId, { capturedMs: Date.parse(e.occurredAt), source: d.source });
    if (e.type === 'LeadConverted') leads.get(d.leadId)!.convertedMs = Date.parse(e.occurredAt);
  }
  const list = periods(params.from, params.to, params.interval);
  const figures = (cohort: Lead[]): ConversionFigures => {
    const converted = cohort.filter((l) => l.convertedMs !== undefined);
    const totalMs = converted.reduce((sum, l) => sum + (l.convertedMs! - l.capturedMs), 0);
    return {
      captured: cohort.length,
      converted: converted.length,
      conversionRate: rate(ratio(converted.length, cohort.length)),
      avgDaysToConvert: days(converted.length ? totalMs / converted.length / DAY_MS : null),
    };
  };
  const within = (start: number, end: number) => [...leads.values()].filter((l) => l.capturedMs >= start && l.capturedMs < end);
  const all = list.length ? within(list[0].startMs, list[list.length - 1].endMs) : [];
  const sources = [...new Set(all.map((l) => l.source))].sort();
  const grouped = params.groupBy === 'source';
  const bySource = (cohort: Lead[]) => sources.map((source) => ({ source, ...figures(cohort.filter((l) => l.source === source)) }));
  return {
    interval: params.interval,
    periods: list.map((p) => {
      const cohort = within(p.startMs, p.endMs);
      return { start: p.start, end: p.end, ...figures(cohort), ...(grouped ? { bySource: bySource(cohort) } : {}) };
    }),
    total: { ...figures(all), ...(grouped ? { bySource: bySource(all) } : {}) },
  };
}
