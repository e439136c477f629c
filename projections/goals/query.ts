import { GOAL_MAX_DAYS, GoalKpi, goalProgress, GoalProgress, GoalSegment } from '@chronicle/domain';
import { CAC_PROJECTION } from '../cac/projection';
import { buildCacReport } from '../cac/query';
import { CHURN_PROJECTION } from '../churn/projection';
import { buildChurnReport } from '../churn/query';
import { conversionReport } from '../conversion/query';
import { rate, ratio } from '../common/numbers';
import { truncate } from '../common/periods';
import type { ReadModelAccess, ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { LEAD_FUNNEL_PROJECTION } from '../lead-funnel/projection';
import { OWNER_ACTIVITY_PROJECTION } from '../owner-activity/projection';
import { SALES_CYCLE_PROJECTION } from '../sales-cycle/projection';
import { buildSalesCycleReport } from '../sales-cycle/query';
import { salesPerformanceReport } from '../sales-performance/query';
import { GoalDocument, GOALS_PROJECTION } from './projection';
import { tableRow } from '../common/table';

export interface GoalView {
  id: string;
  name: string | null;
  kpi: GoalKpi;
  segment: GoalSegment | null;
  target: number;
  setAt: string;
  deadline: string;
  asOf: string;
  /** The KPI over the window of the same length just before the goal's window. */
  baseline: { from: string; to: string; value: number | null };
  /** The KPI over [start of the day the goal was set, min(asOf, deadline)). */
  current: { from: string; to: string; value: number | null };
  /** Linear projection at the deadline (see libs/domain goal/progress.ts). */
  projected: number | null;
  status: GoalProgress['status'] | 'cancelled';
  elapsed: number;
  /** When, by whom and why the goal was cancelled (null: not cancelled as of asOf). */
  cancelled: { at: string; by: string; reason: string | null } | null;
}

export interface GoalsReport {
  asOf: string;
  goals: GoalView[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const DAY_MS = 86_400_000;

/**
 * The KPI over [fromMs, toMs), computed by the report that defines it (never a second formula):
 * churnRate = Σ churned / customers active at the start (churn report, daily periods); cac = spend
 * / new customers (cac report total); salesCycleDays = average won-deal cycle (sales-cycle);
 * newRevenue = revenue won (sales-performance); conversionRate = converted / captured of the
 * leads captured in the window (conversion); winRate = won / (won + lost) (sales-performance).
 */
export async function kpiValue(
  kpi: GoalKpi,
  segment: GoalSegment | undefined,
  fromMs: number,
  toMs: number,
  context: ReportContext,
): Promise<number | null> {
  if (!(fromMs < toMs)) return null;
  const params: ReportParams = { from: iso(fromMs), to: iso(toMs), interval: 'day', asOf: iso(toMs), limit: 10 };
  switch (kpi) {
    case 'churnRate': {
      const report = await buildChurnReport({ ...params, groupBy: segment?.channel ? 'channel' : undefined }, context);
      const periods = segment?.channel ? (report.groups?.find((g) => g.key === segment.channel)?.periods ?? []) : report.periods;
      if (periods.length === 0) return null;
      return rate(
        ratio(
          periods.reduce((n, p) => n + p.churned, 0),
          periods[0].customersAtStart,
        ),
      );
    }
    case 'cac': {
      const report = await buildCacReport({ ...params, groupBy: segment?.channel ? 'channel' : undefined }, context);
      if (!segment?.channel) return report.total.cac;
      let spend = 0;
      let customers = 0;
      for (const p of report.periods) {
        const line = p.byChannel?.find((c) => c.channel === segment.channel);
        spend += line?.spend ?? 0;
        customers += line?.newCustomers ?? 0;
      }
      const cac = ratio(spend, customers);
      return cac === null ? null : Math.round(cac * 100) / 100;
    }
    case 'salesCycleDays': {
      const groupBy = segment?.owner ? 'owner' : segment?.source ? 'source' : undefined;
      const report = await buildSalesCycleReport({ ...params, groupBy }, context);
      if (!groupBy) return report.overall.avgDays;
      return report.groups.find((g) => g.key === (segment!.owner ?? segment!.source))?.avgDays ?? null;
    }
    case 'newRevenue':
    case 'winRate': {
      // Only the window's totals count here: the coarsest series costs least.
      const report = await salesPerformanceReport.run({ ...params, interval: 'year' }, context);
      const figures = segment?.owner ? report.owners.find((o) => o.ownerId === segment.owner) : report.totals;
      if (kpi === 'newRevenue') return figures?.revenueWon ?? 0;
      return figures?.winRate ?? null;
    }
    case 'conversionRate': {
      const report = await conversionReport.run({ ...params, groupBy: segment?.source ? 'source' : undefined }, context);
      if (!segment?.source) return report.total.conversionRate;
      return report.total.bySource?.find((s) => s.source === segment.source)?.conversionRate ?? null;
    }
  }
}

/**
 * A goal with its baseline, current value, projection at the deadline and status, as of `asOfMs`.
 * A goal cancelled by then is measured up to its cancellation and projects nothing. The baseline
 * window is as long as the goal's, at most GOAL_MAX_DAYS: goals stored before that limit existed
 * (a deadline decades ahead) are still computed, never refused.
 */
export async function goalView(doc: GoalDocument, asOfMs: number, context: ReportContext): Promise<GoalView> {
  const start = truncate(Date.parse(doc.setAt), 'day');
  const deadline = Date.parse(doc.deadline);
  const span = Math.min(deadline - start, GOAL_MAX_DAYS * DAY_MS);
  const cancelledAt = doc.cancelled && Date.parse(doc.cancelled.at) <= asOfMs ? Date.parse(doc.cancelled.at) : undefined;
  const end = Math.min(Math.max(asOfMs, start), deadline, cancelledAt ?? Infinity);
  const [baseline, current] = await Promise.all([
    kpiValue(doc.kpi, doc.segment, start - span, start, context),
    kpiValue(doc.kpi, doc.segment, start, end, context),
  ]);
  const measured = goalProgress({
    kpi: doc.kpi,
    target: doc.target,
    setAt: start,
    deadline,
    now: Math.min(asOfMs, cancelledAt ?? Infinity),
    baseline,
    current,
  });
  const progress = cancelledAt === undefined ? measured : { projected: null, status: 'cancelled' as const, elapsed: measured.elapsed };
  return {
    id: doc._id,
    name: doc.name ?? null,
    kpi: doc.kpi,
    segment: doc.segment ?? null,
    target: doc.target,
    setAt: doc.setAt,
    deadline: doc.deadline,
    asOf: iso(asOfMs),
    baseline: { from: iso(start - span), to: iso(start), value: baseline },
    current: { from: iso(start), to: iso(end), value: current },
    ...progress,
    cancelled: cancelledAt === undefined ? null : doc.cancelled!,
  };
}

export async function findGoal(readModels: ReadModelAccess, goalId: string): Promise<GoalDocument | null> {
  const goals = await readModels.collection<GoalDocument>(GOALS_PROJECTION, 'goals');
  return (await goals.find({ _id: goalId }, { limit: 1 }))[0] ?? null;
}

/** GET /reports/goals — every goal with its progress as of `asOf` (default now), by deadline. */
export const goalsReport = {
  name: 'goals',
  description: 'Every SMART goal: KPI, target, deadline, baseline, current value, linear projection at the deadline, on-track/off-track',
  ownerScoped: true,
  projections: [
    GOALS_PROJECTION,
    CHURN_PROJECTION,
    CAC_PROJECTION,
    SALES_CYCLE_PROJECTION,
    LEAD_FUNNEL_PROJECTION,
    OWNER_ACTIVITY_PROJECTION,
  ],
  tables: {
    goals: (r: GoalsReport) => r.goals.map((g) => tableRow(g)),
  },
  async run(params, context): Promise<GoalsReport> {
    const goals = await context.readModels.collection<GoalDocument>(GOALS_PROJECTION, 'goals');
    // An owner sees the goals on its own figures (segmented by it), as it may set them.
    const docs = (await goals.find({}, { sort: { deadline: 1, _id: 1 } })).filter(
      (d) => params.owner === undefined || d.segment?.owner === params.owner,
    );
    const asOfMs = Date.parse(params.asOf);
    return { asOf: iso(asOfMs), goals: await Promise.all(docs.map((d) => goalView(d, asOfMs, context))) };
  },
} satisfies ReportDefinition;
