import type { Pipeline } from '@chronicle/domain';
import { DAY_MS, days, durationDays } from '../common/numbers';
import { dayOf, truncate } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { sumRows } from '../common/rows';
import { CycleDayDocument, SALES_CYCLE_PROJECTION, StageExitDocument, WonEntry } from './projection';
import { tableRow } from '../common/table';

export const SALES_CYCLE_GROUPS = ['source', 'owner'] as const;
export type SalesCycleGroupBy = (typeof SALES_CYCLE_GROUPS)[number];

export interface CycleStats {
  key: string;
  wonDeals: number;
  avgDays: number | null;
  medianDays: number | null;
  p90Days: number | null;
}

export interface SalesCycleReport {
  from: string;
  to: string;
  overall: CycleStats;
  groups: CycleStats[];
  stages: { stage: string; exits: number; avgDays: number | null }[];
}

/** Statistics of cycle lengths given in milliseconds: mean from the exact integer sum; median and nearest-rank p90 of the values in days. */
function cycleStats(key: string, cycles: number[]): CycleStats {
  return { key, wonDeals: cycles.length, ...durationDays(cycles) };
}

/** Stage lines: configured stages in pipeline order (zeros included), then any other stage with exits, by name. */
function stageLines(pipeline: Pipeline, exits: Map<string, { exits: number; ms: number }>): SalesCycleReport['stages'] {
  const configured = pipeline.stages.map((s) => s.name);
  const extra = [...exits.entries()]
    .filter(([stage, e]) => !configured.includes(stage) && e.exits > 0)
    .map(([stage]) => stage)
    .sort();
  return [...configured, ...extra].map((stage) => {
    const e = exits.get(stage) ?? { exits: 0, ms: 0 };
    return { stage, exits: e.exits, avgDays: e.exits ? days(e.ms / e.exits / DAY_MS) : null };
  });
}

/**
 * GET /reports/sales-cycle?from&to&groupBy=source|owner — deals won with wonAt in [from, to)
 * (from and to as given, not truncated; a deal counts by its last close, a reopened win is
 * withdrawn); cycle = wonAt − openedAt in days. `overall` (key `all`)
 * and, with groupBy, one line per deal source or owner (sorted by key; none without groupBy):
 * wonDeals, avgDays, medianDays (even count: mean of the two middle values), p90Days (nearest
 * rank, the ⌈0.9·n⌉-th smallest); null when there is no won deal. `stages`: every stage exit
 * (stage change, win or loss) with its time in [from, to) and the days spent in the stage left.
 */
export async function buildSalesCycleReport(
  params: Pick<ReportParams, 'from' | 'to' | 'groupBy'>,
  context: ReportContext,
): Promise<SalesCycleReport> {
  const fromMs = Date.parse(params.from);
  const toMs = Date.parse(params.to);
  const groupBy = params.groupBy as SalesCycleGroupBy | undefined;
  const [days, exits] = await Promise.all([
    context.readModels.collection<CycleDayDocument>(SALES_CYCLE_PROJECTION, 'days'),
    context.readModels.collection<StageExitDocument>(SALES_CYCLE_PROJECTION, 'exits'),
  ]);
  // The day documents overlapping [from, to): their won deals filtered by time; their exit sums
  // only for whole days inside the range, single exits for the partial days at the two ends.
  const firstWhole = truncate(fromMs, 'day') === fromMs ? fromMs : truncate(fromMs, 'day') + DAY_MS;
  const wholeEnd = truncate(toMs, 'day');
  const partial: [number, number][] =
    firstWhole < wholeEnd
      ? [
          [fromMs, firstWhole],
          [wholeEnd, toMs],
        ]
      : [[fromMs, toMs]];
  const [dayDocs, ...edges] = await Promise.all([
    days.find({ _id: { $gte: dayOf(fromMs), $lte: dayOf(toMs - 1) } }),
    ...partial.filter(([a, b]) => a < b).map(([a, b]) => exits.find({ t: { $gte: a, $lt: b } })),
  ]);

  const exitSums = new Map<string, number[]>();
  const won: WonEntry[] = [];
  for (const day of dayDocs) {
    const dayMs = Date.parse(`${day._id}T00:00:00.000Z`);
    if (dayMs >= firstWhole && dayMs + DAY_MS <= wholeEnd) sumRows(exitSums, day.e);
    for (const entry of day.w) if (entry[0] >= fromMs && entry[0] < toMs) won.push(entry);
  }
  for (const exit of edges.flat()) sumRows(exitSums, [[exit.stage, 1, exit.ms]]);

  const groups = new Map<string, number[]>();
  if (groupBy) {
    for (const [, ms, source, owner] of won) {
      const key = groupBy === 'source' ? source : owner;
      const cycles = groups.get(key);
      if (cycles) cycles.push(ms);
      else groups.set(key, [ms]);
    }
  }
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    overall: cycleStats(
      'all',
      won.map((entry) => entry[1]),
    ),
    groups: [...groups.keys()].sort().map((key) => cycleStats(key, groups.get(key)!)),
    stages: stageLines(context.pipeline, new Map([...exitSums].map(([stage, [n, ms]]) => [stage, { exits: n, ms }]))),
  };
}

export const salesCycleReport: ReportDefinition = {
  name: 'sales-cycle',
  description:
    'Days from opening to winning for deals won in [from, to): overall and per source or owner (mean, median, p90), and average days spent in each stage per stage exit',
  projections: [SALES_CYCLE_PROJECTION],
  groupBy: SALES_CYCLE_GROUPS,
  tables: {
    groups: (r: SalesCycleReport) => [r.overall, ...r.groups].map((g) => tableRow(g)),
    stages: (r: SalesCycleReport) => r.stages.map((s) => tableRow(s)),
  },
  run: (params, context) => buildSalesCycleReport(params, context),
};
