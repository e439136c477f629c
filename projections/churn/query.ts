import { rate, ratio } from '../common/numbers';
import { dayOf, Interval, Period, periodIndex, periods } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { sortedKeys } from '../common/rows';
import { CHURN_GROUPS, CHURN_PROJECTION, ChurnDayDocument, ChurnGroupBy } from './projection';
import { tableRow } from '../common/table';

export interface ChurnPeriod {
  start: string;
  end: string;
  customersAtStart: number;
  newCustomers: number;
  reactivated: number;
  churned: number;
  customersAtEnd: number;
  churnRate: number | null;
}

export interface ChurnReport {
  interval: Interval;
  periods: ChurnPeriod[];
  /** With groupBy only. */
  groupBy?: ChurnGroupBy;
  groups?: { key: string; periods: ChurnPeriod[] }[];
}

/** Running counts of one series (everyone, or one group): active before the first period, and [acquired, reactivated, churned, Δactive] per period. */
class Series {
  activeBefore = 0;
  constructor(readonly counts: number[][]) {}

  add(index: number, counts: readonly number[]): void {
    if (index < 0) this.activeBefore += counts[3];
    else for (let k = 0; k < 4; k++) this.counts[index][k] += counts[k];
  }

  periods(list: Period[]): ChurnPeriod[] {
    let active = this.activeBefore;
    return list.map((period, i) => {
      const [newCustomers, reactivated, churned, delta] = this.counts[i];
      const customersAtStart = active;
      active += delta;
      return {
        start: period.start,
        end: period.end,
        customersAtStart,
        newCustomers,
        reactivated,
        churned,
        customersAtEnd: active,
        churnRate: rate(ratio(churned, customersAtStart)),
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
 * was active at the start). With groupBy, `groups` lists, by key, every acquisition channel,
 * current region or current owner with a lifecycle event before the end of the last period
 * (see the projection for why region and owner are the current ones).
 */
export async function buildChurnReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'groupBy'>,
  context: ReportContext,
): Promise<ChurnReport> {
  const list = periods(params.from, params.to, params.interval);
  const groupBy = params.groupBy as ChurnGroupBy | undefined;
  const fresh = () => new Series(list.map(() => [0, 0, 0, 0]));
  const overall = fresh();
  const groups = new Map<string, Series>();
  if (list.length > 0) {
    const days = await context.readModels.collection<ChurnDayDocument>(CHURN_PROJECTION, 'days');
    // Every day before the end: the days before the first period give who is active at its start.
    for (const doc of await days.find({ _id: { $lt: dayOf(list[list.length - 1].endMs) } })) {
      const ms = Date.parse(`${doc._id}T00:00:00.000Z`);
      const index = ms < list[0].startMs ? -1 : periodIndex(list, ms);
      overall.add(index, doc.all);
      if (!groupBy) continue;
      for (const [key, ...counts] of doc[groupBy]) {
        let series = groups.get(key);
        if (!series) groups.set(key, (series = fresh()));
        series.add(index, counts);
      }
    }
  }
  const report: ChurnReport = { interval: params.interval, periods: overall.periods(list) };
  if (groupBy) {
    report.groupBy = groupBy;
    report.groups = sortedKeys(groups.keys()).map((key) => ({ key, periods: groups.get(key)!.periods(list) }));
  }
  return report;
}

export const churnReport: ReportDefinition = {
  name: 'churn',
  description:
    'Active customers at the start and end of each period, new, reactivated and churned customers, and churn rate (churned / active at start); groupBy=channel (acquisition), region or owner (current)',
  projections: [CHURN_PROJECTION],
  groupBy: CHURN_GROUPS,
  tables: {
    periods: (r: ChurnReport) => r.periods.map((p) => tableRow(p)),
    groups: (r: ChurnReport) => (r.groups ?? []).flatMap((g) => g.periods.map((p) => tableRow({ groupBy: r.groupBy, key: g.key }, p))),
  },
  run: (params, context) => buildChurnReport(params, context),
};
