import { daysWithin } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
import { Interval, periodIndex, periods, rangeOf, truncate } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { tableRow } from '../common/table';
import { DEAL_OUTCOME_GROUPS, DEAL_OUTCOMES_PROJECTION, DealOutcomeGroupBy, readDealOutcomes } from './projection';

export interface DealOutcomeFigures {
  won: number;
  lost: number;
  /** won + lost. */
  closed: number;
  /** won ÷ closed; null when none closed. */
  winRate: number | null;
  /** Σ amount of the deals won (as won). */
  revenueWon: number;
  /** revenueWon ÷ won; null when none won. */
  averageDealSize: number | null;
}
export type DealOutcomePeriod = { start: string; end: string } & DealOutcomeFigures & {
    /** (revenueWon − the previous period's) ÷ the previous period's; null when that is 0. */
    revenueGrowth: number | null;
  };
export interface DealOutcomeSeries {
  periods: DealOutcomePeriod[];
  /** Over all the periods; growth does not apply. */
  total: DealOutcomeFigures;
}
export interface DealOutcomesReport extends DealOutcomeSeries {
  interval: Interval;
  /** With groupBy only. */
  groupBy?: DealOutcomeGroupBy;
  groups?: ({ key: string } & DealOutcomeSeries)[];
}

/** [won, lost, revenue in cents]. */
type Counts = [number, number, number];

export function dealOutcomeFigures([won, lost, cents]: Readonly<Counts>): DealOutcomeFigures {
  const average = ratio(cents, won);
  return {
    won,
    lost,
    closed: won + lost,
    winRate: rate(ratio(won, won + lost)),
    revenueWon: money(cents / 100),
    averageDealSize: average === null ? null : money(average / 100),
  };
}

/** Growth between two revenues in cents (exact integers until the division). */
export const revenueGrowth = (cents: number, previousCents: number): number | null => rate(ratio(cents - previousCents, previousCents));

/**
 * GET /reports/deal-outcomes?from&to&interval[&groupBy=source|owner] — per period [start, end):
 * deals won and lost (DealWon / DealLost by occurredAt; a deal counts by its last close, a
 * DealReopened withdraws the one it undoes), win rate, revenue won, average deal size
 * and revenue growth over the previous period. The period just before the first one is read too,
 * so the first period's growth is meaningful. See docs/reports.md.
 */
export async function buildDealOutcomesReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'groupBy'>,
  context: ReportContext,
): Promise<DealOutcomesReport> {
  const list = periods(params.from, params.to, params.interval);
  const groupBy = params.groupBy as DealOutcomeGroupBy | undefined;
  // Slot 0 is the period before the first; slot i + 1 is list[i].
  const fresh = (): Counts[] => [[0, 0, 0], ...list.map((): Counts => [0, 0, 0])];
  const overall = fresh();
  const groups = new Map<string, Counts[]>();
  if (list.length > 0) {
    const firstMs = list[0].startMs;
    const beforeMs = truncate(firstMs - 1, params.interval);
    // Every closed deal is in both groupings: without groupBy either one gives the overall figures.
    for (const doc of await readDealOutcomes(context.readModels, groupBy ?? 'source', beforeMs, list[list.length - 1].endMs)) {
      let series = groups.get(doc.key);
      for (const [dayMs, c] of daysWithin(doc, beforeMs, list[list.length - 1].endMs)) {
        const slot = dayMs < firstMs ? 0 : periodIndex(list, dayMs) + 1;
        if (!series) groups.set(doc.key, (series = fresh()));
        for (const counts of [overall[slot], series[slot]]) {
          counts[0] += c.won ?? 0;
          counts[1] += c.lost ?? 0;
          counts[2] += c.revenueCents ?? 0;
        }
      }
    }
  }
  const seriesOf = (counts: Counts[]): DealOutcomeSeries => {
    const total: Counts = [0, 0, 0];
    const rows = list.map((period, i) => {
      const c = counts[i + 1];
      for (let k = 0; k < 3; k++) total[k] += c[k];
      return { start: period.start, end: period.end, ...dealOutcomeFigures(c), revenueGrowth: revenueGrowth(c[2], counts[i][2]) };
    });
    return { periods: rows, total: dealOutcomeFigures(total) };
  };
  const report: DealOutcomesReport = { interval: params.interval, ...seriesOf(overall) };
  if (groupBy) {
    report.groupBy = groupBy;
    // Groups with a deal closed in the range; activity only in the period before does not list one.
    report.groups = [...groups]
      .filter(([, counts]) => counts.slice(1).some(([won, lost]) => won + lost > 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, counts]) => ({ key, ...seriesOf(counts) }));
  }
  return report;
}

export const dealOutcomesReport = {
  name: 'deal-outcomes',
  description:
    'Deals won and lost per period, win rate = won / (won + lost), revenue won, average deal size = revenue / won and revenue growth over the previous period; groupBy=source or owner (at opening)',
  projections: [DEAL_OUTCOMES_PROJECTION],
  groupBy: DEAL_OUTCOME_GROUPS,
  tables: {
    periods: (r: DealOutcomesReport) => r.periods.map((p) => tableRow(p)),
    groups: (r: DealOutcomesReport) =>
      (r.groups ?? []).flatMap((g) => g.periods.map((p) => tableRow({ groupBy: r.groupBy, key: g.key }, p))),
    total: (r: DealOutcomesReport) => [tableRow(rangeOf(r.periods), r.total)],
    groupTotals: (r: DealOutcomesReport) =>
      (r.groups ?? []).map((g) => tableRow({ groupBy: r.groupBy, key: g.key }, rangeOf(r.periods), g.total)),
  },
  run: (params, context) => buildDealOutcomesReport(params, context),
} satisfies ReportDefinition;
