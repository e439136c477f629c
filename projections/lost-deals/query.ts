import { stageNames } from '@chronicle/domain';
import { daysWithin, dayWindow } from '../common/buckets';
import { money } from '../common/numbers';
import type { ReportDefinition } from '../common/report';
import { LOST_DEALS_PROJECTION, readLostDeals } from './projection';
import { tableRow } from '../common/table';

export interface LostFigures {
  deals: number;
  /** Σ amount of the deals when lost. */
  value: number;
}
export interface LostDealsReport {
  from: string;
  to: string;
  totals: LostFigures;
  /** Most deals first, then by reason. */
  byReason: ({ reason: string } & LostFigures)[];
  /** Every configured stage in pipeline order (zeros included), then any other stage lost from. */
  byStage: ({ stage: string } & LostFigures)[];
}

/** Orders byReason rows: most deals first, then by reason (code-point order). */
export const reasonOrder = (a: { reason: string; deals: number }, b: { reason: string; deals: number }): number =>
  b.deals - a.deals || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0);

/** Stages in pipeline order, then the others (a stage since removed from the configuration) by name. */
export function stageOrder(configured: string[], seen: Iterable<string>): string[] {
  const extra = [...new Set(seen)].filter((s) => !configured.includes(s)).sort();
  return [...configured, ...extra];
}

/** Deals lost in the window (whole UTC days), by reason and by the stage they were lost from; a reopened loss is withdrawn. */
export const lostDealsReport = {
  name: 'lost-deals',
  description: 'Deals lost in the window by reason and by the stage lost from: count and value',
  projections: [LOST_DEALS_PROJECTION],
  tables: {
    byReason: (r: LostDealsReport) => r.byReason.map((l) => tableRow(l)),
    byStage: (r: LostDealsReport) => r.byStage.map((l) => tableRow(l)),
    totals: (r: LostDealsReport) => [tableRow({ from: r.from, to: r.to }, r.totals)],
  },
  async run(params, { readModels, pipeline }): Promise<LostDealsReport> {
    const window = dayWindow(params);
    const docs = await readLostDeals(readModels, window.startMs, window.endMs);
    const byReason = new Map<string, LostFigures>();
    const byStage = new Map<string, LostFigures>();
    const totals: LostFigures = { deals: 0, value: 0 };
    const add = (map: Map<string, LostFigures>, key: string, deals: number, value: number) => {
      const f = map.get(key) ?? { deals: 0, value: 0 };
      f.deals += deals;
      f.value += value;
      map.set(key, f);
    };
    for (const doc of docs) {
      for (const [, day] of daysWithin(doc, window.startMs, window.endMs)) {
        add(byReason, doc.reason, day.deals, day.value);
        add(byStage, doc.stage, day.deals, day.value);
        totals.deals += day.deals;
        totals.value += day.value;
      }
    }
    const round = (f: LostFigures | undefined): LostFigures => ({ deals: f?.deals ?? 0, value: money(f?.value ?? 0) });
    return {
      from: window.from,
      to: window.to,
      totals: round(totals),
      byReason: [...byReason].map(([reason, f]) => ({ reason, ...round(f) })).sort(reasonOrder),
      byStage: stageOrder(stageNames(pipeline), byStage.keys()).map((stage) => ({ stage, ...round(byStage.get(stage)) })),
    };
  },
} satisfies ReportDefinition;
