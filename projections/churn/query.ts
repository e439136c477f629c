import { rate, ratio } from '../common/numbers';
import { dayOf, Interval, Period, periodIndex, periods } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { sortedKeys } from '../common/rows';
import { CHURN_GROUPS, CHURN_PROJECTION, ChurnDayDocument, ChurnGroupBy } from './projection';
import { tableRow } from '../common/table';

/** Churns of one reason. */
export interface ChurnReason {
  reason: string;
  churned: number;
}

export interface ChurnPeriod {
  start: string;
  end: string;
  customersAtStart: number;
  newCustomers: number;
  reactivated: number;
  churned: number;
  customersAtEnd: number;
  churnRate: number | null;
  /** Customers active at the start with no CustomerChurned in the period. */
  retained: number;
  /** retained ÷ customersAtStart; null when that is 0. */
  retentionRate: number | null;
  /** The period's churns by reason: most first, then by reason. */
  churnedByReason: ChurnReason[];
}

export interface ChurnReport {
  interval: Interval;
  periods: ChurnPeriod[];
  /** The churns of all the periods by reason: most first, then by reason. */
  churnedByReason: ChurnReason[];
  /** With groupBy only. */
  groupBy?: ChurnGroupBy;
  groups?: { key: string; periods: ChurnPeriod[]; churnedByReason: ChurnReason[] }[];
}

/** Orders reason rows: most churns first, then by reason (code-point order). */
export const reasonOrder = (a: ChurnReason, b: ChurnReason): number =>
  b.churned - a.churned || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0);

const byReason = (counts: Map<string, number>): ChurnReason[] =>
  [...counts].map(([reason, churned]) => ({ reason, churned })).sort(reasonOrder);

/**
 * Running counts of one series (everyone, or one group): active before the first period, and per
 * period [acquired, reactivated, churned, Δactive, churns of customers active at its start] and
 * the churns by reason.
 */
class Series {
  activeBefore = 0;
  readonly counts: number[][];
  readonly reasons: Map<string, number>[];
  constructor(private readonly list: Period[]) {
    this.counts = list.map(() => [0, 0, 0, 0, 0]);
    this.reasons = list.map(() => new Map());
  }

  add(index: number, counts: readonly number[]): void {
    if (index < 0) this.activeBefore += counts[3];
    else for (let k = 0; k < 4; k++) this.counts[index][k] += counts[k];
  }

  /** Churns on a day of period `index` that ended a streak begun on `since`: lost from the start when it began before the period. */
  lost(index: number, since: string, churned: number): void {
    if (index >= 0 && Date.parse(`${since}T00:00:00.000Z`) < this.list[index].startMs) this.counts[index][4] += churned;
  }

  reason(index: number, reason: string, churned: number): void {
    if (index < 0) return;
    const counts = this.reasons[index];
    counts.set(reason, (counts.get(reason) ?? 0) + churned);
  }

  /** The churns of all the periods by reason. */
  churnedByReason(): ChurnReason[] {
    const total = new Map<string, number>();
    for (const counts of this.reasons) for (const [reason, churned] of counts) total.set(reason, (total.get(reason) ?? 0) + churned);
    return byReason(total);
  }

  periods(): ChurnPeriod[] {
    let active = this.activeBefore;
    return this.list.map((period, i) => {
      const [newCustomers, reactivated, churned, delta, lostFromStart] = this.counts[i];
      const customersAtStart = active;
      active += delta;
      const retained = customersAtStart - lostFromStart;
      return {
        start: period.start,
        end: period.end,
        customersAtStart,
        newCustomers,
        reactivated,
        churned,
        customersAtEnd: active,
        churnRate: rate(ratio(churned, customersAtStart)),
        retained,
        retentionRate: rate(ratio(retained, customersAtStart)),
        churnedByReason: byReason(this.reasons[i]),
      };
    });
  }
}

/**
 * GET /reports/churn?from&to&interval[&groupBy=channel|region|owner] — per period [start, end):
 * customersAtStart / customersAtEnd = customers active at that instant (acquired and not
 * churned, reactivation making them active again, from their events with occurredAt before
 * it); newCustomers, reactivated, churned = CustomerAcquired, CustomerReactivated,
 * CustomerChurned in the period; churnRate = churned / customersAtStart (null when no customer
 * was active at the start); retained = customers active at the start with no CustomerChurned in
 * the period, retentionRate = retained / customersAtStart (null likewise); churnedByReason = the
 * period's churns by reason, and over all the periods. With groupBy, `groups` lists, by key,
 * every acquisition channel, current region or current owner with a lifecycle event before the
 * end of the last period (see the projection for why region and owner are the current ones).
 */
export async function buildChurnReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'groupBy'>,
  context: ReportContext,
): Promise<ChurnReport> {
  const list = periods(params.from, params.to, params.interval);
  const groupBy = params.groupBy as ChurnGroupBy | undefined;
  const fresh = () => new Series(list);
  const overall = fresh();
  const groups = new Map<string, Series>();
  const group = (key: string): Series => {
    let series = groups.get(key);
    if (!series) groups.set(key, (series = fresh()));
    return series;
  };
  if (list.length > 0) {
    const days = await context.readModels.collection<ChurnDayDocument>(CHURN_PROJECTION, 'days');
    // Every day before the end: the days before the first period give who is active at its start.
    for (const doc of await days.find({ _id: { $lt: dayOf(list[list.length - 1].endMs) } })) {
      const ms = Date.parse(`${doc._id}T00:00:00.000Z`);
      const index = ms < list[0].startMs ? -1 : periodIndex(list, ms);
      overall.add(index, doc.all);
      // `?? []`: a day of the version before (still serving while this one is rebuilt) has no churn breakdown.
      if (index >= 0) {
        for (const [since, churned] of doc.lost ?? []) overall.lost(index, since, churned);
        for (const [reason, churned] of doc.reasons ?? []) overall.reason(index, reason, churned);
      }
      if (!groupBy) continue;
      for (const [key, ...counts] of doc[groupBy]) group(key).add(index, counts);
      if (index < 0) continue;
      for (const [key, since, churned] of doc.groupLost?.[groupBy] ?? []) group(key).lost(index, since, churned);
      for (const [key, reason, churned] of doc.groupReasons?.[groupBy] ?? []) group(key).reason(index, reason, churned);
    }
  }
  const report: ChurnReport = { interval: params.interval, periods: overall.periods(), churnedByReason: overall.churnedByReason() };
  if (groupBy) {
    report.groupBy = groupBy;
    report.groups = sortedKeys(groups.keys()).map((key) => {
      const series = groups.get(key)!;
      return { key, periods: series.periods(), churnedByReason: series.churnedByReason() };
    });
  }
  return report;
}

/** A period's figures for the periods and groups tables: the reasons have a table of their own. */
const figures = ({ churnedByReason: _, ...period }: ChurnPeriod) => period;

export const churnReport = {
  name: 'churn',
  description:
    'Active customers at the start and end of each period, new, reactivated and churned customers, churn rate (churned / active at start), retained customers (active at start, not churned in the period) and retention rate (retained / active at start), and churns by reason; groupBy=channel (acquisition), region or owner (current)',
  projections: [CHURN_PROJECTION],
  groupBy: CHURN_GROUPS,
  tables: {
    periods: (r: ChurnReport) => r.periods.map((p) => tableRow(figures(p))),
    groups: (r: ChurnReport) =>
      (r.groups ?? []).flatMap((g) => g.periods.map((p) => tableRow({ groupBy: r.groupBy, key: g.key }, figures(p)))),
    reasons: (r: ChurnReport) => r.periods.flatMap((p) => p.churnedByReason.map((c) => tableRow({ start: p.start, end: p.end }, c))),
  },
  run: (params, context) => buildChurnReport(params, context),
} satisfies ReportDefinition;
