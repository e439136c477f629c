import type { DomainEvent } from '../common/decider';

/** KPIs a goal can be set on; each is computed by the report that defines it (docs/automation.md). */
export const GoalKpis = ['churnRate', 'cac', 'salesCycleDays', 'newRevenue', 'conversionRate', 'winRate'] as const;
export type GoalKpi = (typeof GoalKpis)[number];

/** Lower is better for these; higher for the others. */
export const LowerIsBetter: readonly GoalKpi[] = ['churnRate', 'cac', 'salesCycleDays'];

/** A segment narrows a KPI to one group of its report (e.g. owner "u-1", channel "web"). */
export interface GoalSegment {
  owner?: string;
  channel?: string;
  source?: string;
}

export type GoalSet = DomainEvent<
  'GoalSet',
  {
    goalId: string;
    kpi: GoalKpi;
    target: number;
    deadline: string;
    segment?: GoalSegment;
    name?: string;
  }
>;

export type GoalCancelled = DomainEvent<'GoalCancelled', { goalId: string; reason?: string }>;

export type GoalEvent = GoalSet | GoalCancelled;
