import { InteractionTypes } from '@chronicle/domain';
import { dayWindow } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
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
export type OwnerPerformance = { ownerId: string } & SalesFigures;
export interface SalesPerformanceReport {
  from: string;
  to: string;
  /** Owners with a deal opened, won or lost, or an interaction, in the window; by ownerId. */
  owners: OwnerPerformance[];
  totals: SalesFigures;
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

/**
 * Per owner in the window (whole UTC days): deals opened, won and lost, win rate, revenue won and
 * interactions by type. Deals count for their owner at the time of the event (opened, won, lost);
 * interactions for the user who logged them.
 */
export const salesPerformanceReport = {
  name: 'sales-performance',
  description: 'Per owner: deals opened, won and lost, win rate = won / (won + lost), revenue won, interactions by type',
  projections: [OWNER_ACTIVITY_PROJECTION],
  tables: {
    owners: (r: SalesPerformanceReport) => r.owners.map((o) => tableRow(o)),
    totals: (r: SalesPerformanceReport) => [tableRow({ from: r.from, to: r.to }, r.totals)],
  },
  async run(params, { readModels }): Promise<SalesPerformanceReport> {
    const window = dayWindow(params);
    const byOwner = new Map<string, SalesCounts>();
    const totals = zeroSalesCounts();
    for (const [ownerId, counters] of await ownerActivitySums(readModels, window.startMs, window.endMs)) {
      let c = byOwner.get(ownerId);
      if (!c) byOwner.set(ownerId, (c = zeroSalesCounts()));
      addSales(c, counters);
      addSales(totals, counters);
    }
    const active = (c: SalesCounts) =>
      c.dealsOpened + c.dealsWon + c.dealsLost > 0 || c.interactions.some((n) => n > 0) || Object.keys(c.otherInteractions).length > 0;
    return {
      from: window.from,
      to: window.to,
      owners: [...byOwner]
        .filter(([, c]) => active(c))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([ownerId, c]) => ({ ownerId, ...salesFigures(c) })),
      totals: salesFigures(totals),
    };
  },
} satisfies ReportDefinition;
