import { InteractionTypes } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { dayWindow } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
import { periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { SalesFigures, SalesPerformanceReport, SalesPeriod } from './query';

interface Fact {
  ownerId: string;
  kind: 'opened' | 'won' | 'lost' | 'interaction';
  at: number;
  amount: number;
  type?: string;
}

/** The sales-performance report folded straight from the raw events (test oracle). */
export function salesPerformanceReference(
  events: RecordedEvent[],
  params: Pick<ReportParams, 'from' | 'to' | 'interval'>,
): SalesPerformanceReport {
  const { startMs, endMs, from, to } = dayWindow(params);
  const dealOwner = new Map<string, string>();
  const facts: Fact[] = [];
  // A deal counts by its last close: a close followed by a DealReopened of the deal counts nowhere.
  const lastReopen = new Map<string, number>();
  events.forEach((e, i) => e.type === 'DealReopened' && lastReopen.set((e.data as { dealId: string }).dealId, i));
  for (const [i, e] of events.entries()) {
    const d = e.data as { dealId: string; ownerId: string; amount: number; type: string };
    if (e.type === 'DealOpened') dealOwner.set(d.dealId, d.ownerId);
    const at = Date.parse(e.occurredAt);
    if (at < startMs || at >= endMs) continue;
    if ((e.type === 'DealWon' || e.type === 'DealLost') && (lastReopen.get(d.dealId) ?? -1) > i) continue;
    if (e.type === 'DealOpened') facts.push({ ownerId: d.ownerId, kind: 'opened', at, amount: 0 });
    if (e.type === 'DealWon') facts.push({ ownerId: dealOwner.get(d.dealId)!, kind: 'won', at, amount: d.amount });
    if (e.type === 'DealLost') facts.push({ ownerId: dealOwner.get(d.dealId)!, kind: 'lost', at, amount: 0 });
    if (e.type === 'InteractionLogged') facts.push({ ownerId: e.actor, kind: 'interaction', at, amount: 0, type: d.type });
  }
  const figures = (list: Fact[]): SalesFigures => {
    const won = list.filter((f) => f.kind === 'won');
    const lost = list.filter((f) => f.kind === 'lost').length;
    const interactions = list.filter((f) => f.kind === 'interaction');
    const byType: Record<string, number> = Object.fromEntries(InteractionTypes.map((t) => [t, 0]));
    for (const f of interactions) byType[f.type!] = (byType[f.type!] ?? 0) + 1;
    return {
      dealsOpened: list.filter((f) => f.kind === 'opened').length,
      dealsWon: won.length,
      dealsLost: lost,
      winRate: rate(ratio(won.length, won.length + lost)),
      revenueWon: money(won.reduce((sum, f) => sum + f.amount, 0)),
      interactions: interactions.length,
      interactionsByType: byType,
    };
  };
  // The interval's periods, the first and last cut to the window [startMs, endMs).
  const cuts = periods(startMs, endMs, params.interval).map((p) => [Math.max(p.startMs, startMs), Math.min(p.endMs, endMs)]);
  const series = (list: Fact[]): SalesPeriod[] =>
    cuts.map(([s, e]) => {
      const { dealsWon, dealsLost, winRate, revenueWon } = figures(list.filter((f) => f.at >= s && f.at < e));
      return { start: new Date(s).toISOString(), end: new Date(e).toISOString(), revenueWon, dealsWon, dealsLost, winRate };
    });
  const owners = [...new Set(facts.map((f) => f.ownerId))].sort();
  return {
    from,
    to,
    interval: params.interval,
    owners: owners.map((ownerId) => {
      const own = facts.filter((f) => f.ownerId === ownerId);
      return { ownerId, ...figures(own), periods: series(own) };
    }),
    totals: figures(facts),
    periods: series(facts),
  };
}
