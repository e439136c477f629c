import type { RecordedEvent } from '@chronicle/event-store';
import { money, rate, ratio } from '../common/numbers';
import { periods, truncate } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { DealOutcomeFigures, DealOutcomesReport, DealOutcomeSeries } from './query';

interface Close {
  at: number;
  won: boolean;
  cents: number;
  source: string;
  owner: string;
}

/** The deal-outcomes report folded straight from the raw events, close by close (test oracle for docs/reports.md). */
export function referenceDealOutcomes(
  events: RecordedEvent[],
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'groupBy'>,
): DealOutcomesReport {
  const opened = new Map<string, { source: string; owner: string }>();
  const all: (Close & { dealId: string; index: number })[] = [];
  const lastReopen = new Map<string, number>();
  for (const [index, e] of events.entries()) {
    if (e.type === 'DealReopened') lastReopen.set((e.data as { dealId: string }).dealId, index);
    const d = e.data as { dealId: string; source?: string; ownerId?: string; amount: number };
    if (e.type === 'DealOpened') opened.set(d.dealId, { source: d.source || 'unknown', owner: d.ownerId || 'unassigned' });
    if (e.type === 'DealWon' || e.type === 'DealLost') {
      const deal = opened.get(d.dealId) ?? { source: 'unknown', owner: 'unassigned' };
      // Whole cents, each amount rounded as money() rounds it.
      const cents = e.type === 'DealWon' ? Math.round(money(d.amount) * 100) : 0;
      all.push({ at: Date.parse(e.occurredAt), won: e.type === 'DealWon', cents, ...deal, dealId: d.dealId, index });
    }
  }
  // A deal counts by its last close: a close counts unless a DealReopened of the deal follows it.
  const closes: Close[] = all.filter((c) => (lastReopen.get(c.dealId) ?? -1) < c.index);
  const list = periods(params.from, params.to, params.interval);
  const figures = (within: Close[]): DealOutcomeFigures & { cents: number } => {
    const won = within.filter((c) => c.won);
    const lost = within.length - won.length;
    const cents = won.reduce((sum, c) => sum + c.cents, 0);
    return {
      won: won.length,
      lost,
      closed: within.length,
      winRate: within.length ? rate(won.length / within.length) : null,
      revenueWon: money(cents / 100),
      averageDealSize: won.length ? money(cents / won.length / 100) : null,
      cents,
    };
  };
  const between = (of: Close[], startMs: number, endMs: number) => of.filter((c) => c.at >= startMs && c.at < endMs);
  const series = (of: Close[]): DealOutcomeSeries => {
    const rows = list.map((p, i) => {
      const previousStart = i === 0 ? truncate(p.startMs - 1, params.interval) : list[i - 1].startMs;
      const previous = figures(between(of, previousStart, p.startMs)).cents;
      const { cents, ...current } = figures(between(of, p.startMs, p.endMs));
      return { start: p.start, end: p.end, ...current, revenueGrowth: rate(ratio(cents - previous, previous)) };
    });
    const { cents: _, ...total } = figures(list.length ? between(of, list[0].startMs, list[list.length - 1].endMs) : []);
    return { periods: rows, total };
  };
  const report: DealOutcomesReport = { interval: params.interval, ...series(closes) };
  if (params.groupBy === 'source' || params.groupBy === 'owner') {
    const key = params.groupBy;
    const inRange = list.length ? between(closes, list[0].startMs, list[list.length - 1].endMs) : [];
    const keys = [...new Set(inRange.map((c) => c[key]))].sort();
    report.groupBy = key;
    report.groups = keys.map((k) => ({ key: k, ...series(closes.filter((c) => c[key] === k)) }));
  }
  return report;
}
