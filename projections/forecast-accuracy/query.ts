import { stageProbability } from '@chronicle/domain';
import { daysWithin } from '../common/buckets';
import { mean, money, rate, ratio } from '../common/numbers';
import { dayOf, Interval, Period, periodIndex, periods, rangeOf } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { tableRow } from '../common/table';
import { DEAL_OUTCOMES_PROJECTION, readDealOutcomes, toCents } from '../deal-outcomes/projection';
import { AccuracyDayDocument, FORECAST_ACCURACY_PROJECTION, parseOwnerStageKey } from './projection';

export const FORECAST_ACCURACY_GROUPS = ['owner'] as const;

export interface AccuracyPeriod {
  start: string;
  end: string;
  /** Weighted value of the deals open at `start` (the pipeline report's totals.weightedValue as of `start`). */
  forecast: number;
  /** Σ amount of the deals won in [start, end), as deal-outcomes' revenueWon. */
  actual: number;
  /** actual − forecast: positive when more was won than forecast. */
  error: number;
  absoluteError: number;
  /** error ÷ actual; null when actual is 0. */
  percentageError: number | null;
}
export interface AccuracyTotal {
  forecast: number;
  actual: number;
  error: number;
  /** Σ of the periods' absolute errors. */
  absoluteError: number;
  /** Σ error ÷ Σ forecast: > 0 under-forecasting, < 0 over-forecasting; null when Σ forecast is 0. */
  bias: number | null;
  /** Mean of |error ÷ actual| over the periods with actual ≠ 0; null when there is none. */
  meanAbsolutePercentageError: number | null;
}
export interface AccuracySeries {
  periods: AccuracyPeriod[];
  total: AccuracyTotal;
}
export interface ForecastAccuracyReport extends AccuracySeries {
  /** Periods are listed when they ended at or before this instant (asOf, never later than now). */
  asOf: string;
  interval: Interval;
  groupBy?: 'owner';
  groups?: ({ key: string } & AccuracySeries)[];
}

/** Per listed period, in whole cents: the forecast (rounded as shown) and the revenue won. */
interface Cents {
  forecast: number[];
  actual: number[];
}

/**
 * The figures of one series from whole cents: every figure follows from the forecast and actual as
 * shown (error = actual − forecast to the cent), and the totals are exact integer sums.
 */
export function accuracySeries(list: readonly Period[], { forecast, actual }: Cents): AccuracySeries {
  let forecastSum = 0;
  let actualSum = 0;
  let absoluteSum = 0;
  const percentages: number[] = [];
  const rows = list.map((p, i): AccuracyPeriod => {
    const error = actual[i] - forecast[i];
    forecastSum += forecast[i];
    actualSum += actual[i];
    absoluteSum += Math.abs(error);
    if (actual[i] !== 0) percentages.push(Math.abs(error / actual[i]));
    return {
      start: p.start,
      end: p.end,
      forecast: money(forecast[i] / 100),
      actual: money(actual[i] / 100),
      error: money(error / 100),
      absoluteError: money(Math.abs(error) / 100),
      percentageError: rate(ratio(error, actual[i])),
    };
  });
  return {
    periods: rows,
    total: {
      forecast: money(forecastSum / 100),
      actual: money(actualSum / 100),
      error: money((actualSum - forecastSum) / 100),
      absoluteError: money(absoluteSum / 100),
      bias: rate(ratio(actualSum - forecastSum, forecastSum)),
      meanAbsolutePercentageError: rate(mean(percentages)),
    },
  };
}

/** The periods of the range that ended at or before asOf, itself never later than now (a later period is not over). */
export function endedPeriods(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'asOf'>,
  now = Date.now(),
): { asOf: number; list: Period[] } {
  const asOf = Math.min(Date.parse(params.asOf), now);
  return { asOf, list: periods(params.from, params.to, params.interval).filter((p) => p.endMs <= asOf) };
}

/**
 * Per owner, the weighted value of the deals open at each period start (unrounded) and whether the
 * owner had any deal open then. One pass over the day documents up to the last start: each start is a
 * UTC midnight, the sum of the documents up to its day.
 */
async function forecasts(list: readonly Period[], context: ReportContext): Promise<Map<string, { weighted: number[]; open: boolean }>> {
  const days = await context.readModels.collection<AccuracyDayDocument>(FORECAST_ACCURACY_PROJECTION, 'days');
  const docs = await days.find({ _id: { $lte: dayOf(list[list.length - 1].startMs) } }, { sort: { _id: 1 } });
  const sums = new Map<string, [deals: number, value: number]>();
  const owners = new Map<string, { weighted: number[]; open: boolean }>();
  // Parsed once per key, not once per key and period (a daily range has hundreds of periods).
  const keys = new Map<string, [owner: string, probability: number]>();
  let next = 0;
  for (const [i, period] of list.entries()) {
    const day = dayOf(period.startMs);
    for (; next < docs.length && docs[next]._id <= day; next++) {
      for (const [key, deals, value] of docs[next].s as [string, number, number][]) {
        const sum = sums.get(key);
        if (sum) {
          sum[0] += deals;
          sum[1] += value;
        } else sums.set(key, [deals, value]);
      }
    }
    for (const [key, [deals, value]] of sums) {
      if (deals === 0) continue; // no deal: nothing, whatever residue float sums of +amount/−amount left
      let parsed = keys.get(key);
      if (!parsed) {
        const [owner, stage] = parseOwnerStageKey(key);
        keys.set(key, (parsed = [owner, stageProbability(context.pipeline, stage)]));
      }
      const [owner, probability] = parsed;
      let o = owners.get(owner);
      if (!o) owners.set(owner, (o = { weighted: list.map(() => 0), open: false }));
      o.weighted[i] += value * probability;
      o.open = true;
    }
  }
  return owners;
}

/**
 * GET /reports/forecast-accuracy?from&to&interval[&groupBy=owner][&asOf] — per period [start, end)
 * that has ended (by asOf, at most now): the as-of pipeline's weighted value at start against the
 * revenue won in the period; error, absolute and percentage error; over the range, bias and MAPE.
 * Reads the forecast-accuracy days up to the last start and deal-outcomes' owner months. See
 * docs/reports.md.
 */
export async function buildForecastAccuracyReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'asOf' | 'groupBy'>,
  context: ReportContext,
  now = Date.now(),
): Promise<ForecastAccuracyReport> {
  const { asOf, list } = endedPeriods(params, now);
  const zeros = () => list.map(() => 0);
  const byOwner = new Map<string, Cents & { listed: boolean }>();
  const overall: Cents = { forecast: zeros(), actual: zeros() };
  if (list.length > 0) {
    const unrounded = zeros();
    for (const [owner, { weighted, open }] of await forecasts(list, context)) {
      byOwner.set(owner, { forecast: weighted.map(toCents), actual: zeros(), listed: open });
      weighted.forEach((w, i) => (unrounded[i] += w));
    }
    // The overall forecast rounds the overall sum (the pipeline report's total), not the owners' rounded figures.
    overall.forecast = unrounded.map(toCents);
    const startMs = list[0].startMs;
    const endMs = list[list.length - 1].endMs;
    for (const doc of await readDealOutcomes(context.readModels, 'owner', startMs, endMs)) {
      for (const [dayMs, c] of daysWithin(doc, startMs, endMs)) {
        const i = periodIndex(list, dayMs);
        let owner = byOwner.get(doc.key);
        if (!owner) byOwner.set(doc.key, (owner = { forecast: zeros(), actual: zeros(), listed: false }));
        const cents = c.revenueCents ?? 0;
        owner.actual[i] += cents;
        overall.actual[i] += cents;
        if (c.won) owner.listed = true;
      }
    }
  }
  const report: ForecastAccuracyReport = {
    asOf: new Date(asOf).toISOString(),
    interval: params.interval,
    ...accuracySeries(list, overall),
  };
  if (params.groupBy === 'owner') {
    report.groupBy = 'owner';
    // Owners with a deal open at some start or won in some period; a loss alone does not list one.
    report.groups = [...byOwner]
      .filter(([, o]) => o.listed)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, cents]) => ({ key, ...accuracySeries(list, cents) }));
  }
  return report;
}

export const forecastAccuracyReport = {
  name: 'forecast-accuracy',
  description:
    'Per ended period: the weighted pipeline at its start (forecast) against the revenue won in it (actual); error = actual − forecast, absolute and percentage error; over the range bias = Σ error / Σ forecast and mean absolute percentage error; groupBy=owner (at opening)',
  projections: [FORECAST_ACCURACY_PROJECTION, DEAL_OUTCOMES_PROJECTION],
  groupBy: FORECAST_ACCURACY_GROUPS,
  tables: {
    periods: (r: ForecastAccuracyReport) => r.periods.map((p) => tableRow(p)),
    groups: (r: ForecastAccuracyReport) =>
      (r.groups ?? []).flatMap((g) => g.periods.map((p) => tableRow({ groupBy: r.groupBy, key: g.key }, p))),
    total: (r: ForecastAccuracyReport) => [tableRow({ asOf: r.asOf }, rangeOf(r.periods), r.total)],
    groupTotals: (r: ForecastAccuracyReport) =>
      (r.groups ?? []).map((g) => tableRow({ groupBy: r.groupBy, key: g.key }, rangeOf(r.periods), g.total)),
  },
  run: (params, context) => buildForecastAccuracyReport(params, context),
} satisfies ReportDefinition;
