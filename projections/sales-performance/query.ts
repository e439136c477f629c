import { InteractionTypes } from '@chronicle/domain';
import { dayWindow } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
import { Interval, periodIndex, periods } from '../common/periods';
import type { ReportDefinition } from '../common/report';
import { interactionsByType, OWNER_ACTIVITY_PROJECTION, OwnerActivityCounters, ownerActivitySums } from '../owner-activity/projection';
import { tableRow } from '../common/table';

export interface SalesFigures {
  dealsOpened: number;
  dealsWon: number;
  dealsLost: number;
  /** won / (won + lost); null when none closed. */
  winRate: number | null;
  revenueWon: number;
  interactions: number;
  /** Every interaction type, zeros included. */
  interactionsByType: Record<string, number>;
}
/** A period's closes: [start, end) is the window cut at the interval's boundaries. */
export interface SalesPeriod {
  start: string;
  end: string;
  /** Σ DealWon amounts in the period. */
  revenueWon: number;
  dealsWon: number;
  dealsLost: number;
  /** won / (won + lost) in the period; null when none closed. */
  winRate: number | null;
}
export type OwnerPerformance = { ownerId: string } & SalesFigures & {
    /** The owner's closes per period, every period (zeros included). */
    periods: SalesPeriod[];
  };
export interface SalesPerformanceReport {
  from: string;
  to: string;
  interval: Interval;
  /** Owners with a deal opened, won or lost, or an interaction, in the window; by ownerId. */
  owners: OwnerPerformance[];
  totals: SalesFigures;
  /** Everyone's closes per period, every period (zeros included); they partition [from, to). */
  periods: SalesPeriod[];
}

/** Sums of day counters: interactions by `InteractionTypes` index, other types by name. */
export interface SalesCounts {
  dealsOpened: number;
  dealsWon: number;
  dealsLost: number;
  revenueWon: number;
  interactions: number[];
  otherInteractions: Record<string, number>;
}

export const zeroSalesCounts = (): SalesCounts => ({
  dealsOpened: 0,
  dealsWon: 0,
  dealsLost: 0,
  revenueWon: 0,
  interactions: InteractionTypes.map(() => 0),
  otherInteractions: {},
});

export function salesFigures(c: SalesCounts): SalesFigures {
  const byType = interactionsByType(c);
  for (const type of InteractionTypes) byType[type] ??= 0;
  return {
    dealsOpened: c.dealsOpened,
    dealsWon: c.dealsWon,
    dealsLost: c.dealsLost,
    winRate: rate(ratio(c.dealsWon, c.dealsWon + c.dealsLost)),
    revenueWon: money(c.revenueWon),
    interactions: Object.values(byType).reduce((a, b) => a + b, 0),
    interactionsByType: byType,
  };
}

export function addSales(into: SalesCounts, from: OwnerActivityCounters): void {
  into.dealsOpened += from.dealsOpened ?? 0;
  into.dealsWon += from.dealsWon ?? 0;
  into.dealsLost += from.dealsLost ?? 0;
  into.revenueWon += from.revenueWon ?? 0;
  const counts = from.interactions;
  if (counts) for (let i = 0; i < counts.length; i++) into.interactions[i] += counts[i];
  for (const type in from.otherInteractions)
    into.otherInteractions[type] = (into.otherInteractions[type] ?? 0) + from.otherInteractions[type];
}

/** [dealsWon, dealsLost, revenueWon] of a period. */
type Closes = [number, number, number];

export function salesPeriod(period: { start: string; end: string }, [won, lost, revenue]: Readonly<Closes>): SalesPeriod {
  return {
    start: period.start,
    end: period.end,
    revenueWon: money(revenue),
    dealsWon: won,
    dealsLost: lost,
    winRate: rate(ratio(won, won + lost)),
  };
}

/**
 * The window's periods: the interval's periods over [startMs, endMs), the first and the last cut to
 * the window (a window of whole days need not start or end on the interval's boundaries), so that
 * they partition it and their sums are the window's figures.
 */
export function windowPeriods(startMs: number, endMs: number, interval: Interval) {
  return periods(startMs, endMs, interval).map((p) => {
    const s = Math.max(p.startMs, startMs);
    const e = Math.min(p.endMs, endMs);
    return { start: new Date(s).toISOString(), end: new Date(e).toISOString(), startMs: s, endMs: e };
  });
}

/**
 * Per owner in the window (whole UTC days): deals opened, won and lost, win rate, revenue won and
 * interactions by type; and per period of `interval` (the window cut at its boundaries) the deals
 * won and lost, win rate and revenue won, overall and per owner. Deals count for their owner at the
 * time of the event (opened, won, lost); interactions for the user who logged them.
 */
export const salesPerformanceReport = {
  name: 'sales-performance',
  description:
    'Per owner: deals opened, won and lost, win rate = won / (won + lost), revenue won, interactions by type; per period (interval), overall and per owner: revenue won, deals won and lost, win rate',
  projections: [OWNER_ACTIVITY_PROJECTION],
  ownerScoped: true,
  tables: {
    owners: (r: SalesPerformanceReport) => r.owners.map(({ periods: _, ...o }) => tableRow(o)),
    totals: (r: SalesPerformanceReport) => [tableRow({ from: r.from, to: r.to }, r.totals)],
    periods: (r: SalesPerformanceReport) => r.periods.map((p) => tableRow(p)),
    ownerPeriods: (r: SalesPerformanceReport) => r.owners.flatMap((o) => o.periods.map((p) => tableRow({ ownerId: o.ownerId }, p))),
  },
  async run(params, { readModels }): Promise<SalesPerformanceReport> {
    const window = dayWindow(params);
    const list = windowPeriods(window.startMs, window.endMs, params.interval);
    const byOwner = new Map<string, { counts: SalesCounts; closes: Closes[] }>();
    const totals = zeroSalesCounts();
    const fresh = (): Closes[] => list.map((): Closes => [0, 0, 0]);
    const overall = fresh();
    // Month, quarter and year periods start on month boundaries: whole months then read their totals.
    const sameSlot = (startMs: number, endMs: number) => periodIndex(list, startMs) === periodIndex(list, endMs - 1);
    for (const [ownerId, atMs, counters] of await ownerActivitySums(readModels, window.startMs, window.endMs, sameSlot)) {
      if (params.owner !== undefined && ownerId !== params.owner) continue;
      let o = byOwner.get(ownerId);
      if (!o) byOwner.set(ownerId, (o = { counts: zeroSalesCounts(), closes: fresh() }));
      addSales(o.counts, counters);
      addSales(totals, counters);
      if (!counters.dealsWon && !counters.dealsLost) continue;
      const slot = periodIndex(list, atMs);
      for (const closes of [o.closes[slot], overall[slot]]) {
        closes[0] += counters.dealsWon ?? 0;
        closes[1] += counters.dealsLost ?? 0;
        closes[2] += counters.revenueWon ?? 0;
      }
    }
    const active = (c: SalesCounts) =>
      c.dealsOpened + c.dealsWon + c.dealsLost > 0 || c.interactions.some((n) => n > 0) || Object.keys(c.otherInteractions).length > 0;
    const series = (closes: Closes[]) => list.map((p, i) => salesPeriod(p, closes[i]));
    return {
      from: window.from,
      to: window.to,
      interval: params.interval,
      owners: [...byOwner]
        .filter(([, o]) => active(o.counts))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([ownerId, o]) => ({ ownerId, ...salesFigures(o.counts), periods: series(o.closes) })),
      totals: salesFigures(totals),
      periods: series(overall),
    };
  },
} satisfies ReportDefinition;
