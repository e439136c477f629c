import { stageProbability } from '@chronicle/domain';
import { assertCurrent } from '../common/buckets';
import { money } from '../common/numbers';
import type { ReportDefinition } from '../common/report';
import { FORECAST_PROJECTION, ForecastBucket, NO_CLOSE_DATE } from './projection';
import { tableRow } from '../common/table';

export interface ForecastFigures {
  deals: number;
  value: number;
  /** Σ amount × the probability of the deal's stage in the pipeline configuration. */
  weightedValue: number;
}
export type ForecastMonth = { month: string } & ForecastFigures;
export interface ForecastReport {
  asOf: string;
  /** Expected-close months (YYYY-MM, UTC) with open deals, ascending; then `none` (always listed). */
  months: ForecastMonth[];
  totals: ForecastFigures;
}

/** Months ascending, `none` last. */
export const byMonth = (a: { month: string }, b: { month: string }): number =>
  a.month === b.month ? 0 : a.month === NO_CLOSE_DATE ? 1 : b.month === NO_CLOSE_DATE ? -1 : a.month < b.month ? -1 : 1;

/** The open deals now by expected-close month: count, value and stage-weighted value. */
export const forecastReport = {
  name: 'forecast',
  description: 'Open deals by expected-close month (none = no date): count, value and value weighted by stage probability',
  projections: [FORECAST_PROJECTION],
  tables: {
    months: (r: ForecastReport) => r.months.map((m) => tableRow(m)),
    totals: (r: ForecastReport) => [tableRow({ asOf: r.asOf }, r.totals)],
  },
  async run(params, { readModels, pipeline }): Promise<ForecastReport> {
    const asOf = assertCurrent('forecast', params);
    const buckets = await (await readModels.collection<ForecastBucket>(FORECAST_PROJECTION, 'buckets')).find({});
    const months = new Map<string, ForecastFigures>([[NO_CLOSE_DATE, { deals: 0, value: 0, weightedValue: 0 }]]);
    const totals: ForecastFigures = { deals: 0, value: 0, weightedValue: 0 };
    for (const b of buckets) {
      let m = months.get(b.month);
      if (!m) months.set(b.month, (m = { deals: 0, value: 0, weightedValue: 0 }));
      const weighted = b.value * stageProbability(pipeline, b.stage);
      for (const f of [m, totals]) {
        f.deals += b.deals;
        f.value += b.value;
        f.weightedValue += weighted;
      }
    }
    const round = (f: ForecastFigures): ForecastFigures => ({
      deals: f.deals,
      value: money(f.value),
      weightedValue: money(f.weightedValue),
    });
    return {
      asOf,
      months: [...months].map(([month, f]) => ({ month, ...round(f) })).sort(byMonth),
      totals: round(totals),
    };
  },
} satisfies ReportDefinition;
