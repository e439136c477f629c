import type { Pipeline } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { mean, money, rate, ratio } from '../common/numbers';
import { periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { AccuracySeries, ForecastAccuracyReport } from './query';

interface Deal {
  owner: string;
  stage: string;
  amount: number;
  open: boolean;
}

const cents = (amount: number): number => Math.round(money(amount) * 100);

/**
 * The forecast-accuracy report folded straight from the raw events (test oracle for
 * docs/reports.md): for each period start, the deals open then, by replaying every deal event at or
 * before it; the wins of each period one by one. No deltas, no day buckets.
 */
export function referenceForecastAccuracy(
  events: RecordedEvent[],
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'asOf' | 'groupBy'>,
  pipeline: Pipeline,
  now: number,
): ForecastAccuracyReport {
  const asOf = Math.min(Date.parse(params.asOf), now);
  const list = periods(params.from, params.to, params.interval).filter((p) => p.endMs <= asOf);
  const probability = (stage: string) => pipeline.stages.find((s) => s.name === stage)?.probability ?? 0;

  /** Per owner, Σ over stages of (Σ amount of its deals open at `at` in the stage) × probability. */
  const openAt = (at: number): Map<string, number> => {
    const deals = new Map<string, Deal>();
    for (const e of events) {
      if (Date.parse(e.occurredAt) > at) continue;
      const d = e.data as { dealId: string; ownerId?: string; stage?: string; amount?: number; to?: string | number };
      const deal = deals.get(d.dealId);
      if (e.type === 'DealOpened')
        deals.set(d.dealId, { owner: d.ownerId || 'unassigned', stage: d.stage!, amount: d.amount!, open: true });
      else if (e.type === 'DealStageChanged' && deal?.open) deal.stage = d.to as string;
      else if (e.type === 'DealAmountChanged' && deal?.open) deal.amount = d.to as number;
      else if ((e.type === 'DealWon' || e.type === 'DealLost') && deal) deal.open = false;
      // Reopened: open again in its stage and amount, still its opener's.
      else if (e.type === 'DealReopened' && deal && !deal.open) Object.assign(deal, { open: true, stage: d.stage!, amount: d.amount! });
    }
    const byOwnerStage = new Map<string, Map<string, number>>();
    for (const deal of deals.values()) {
      if (!deal.open) continue;
      const stages = byOwnerStage.get(deal.owner) ?? new Map<string, number>();
      stages.set(deal.stage, (stages.get(deal.stage) ?? 0) + deal.amount);
      byOwnerStage.set(deal.owner, stages);
    }
    const weighted = new Map<string, number>();
    for (const [owner, stages] of byOwnerStage)
      weighted.set(
        owner,
        [...stages].reduce((sum, [stage, value]) => sum + value * probability(stage), 0),
      );
    return weighted;
  };

  const owners = new Map<string, { forecast: number[]; actual: number[] }>();
  const overall = { forecast: list.map(() => 0), actual: list.map(() => 0) };
  const ownerOf = (owner: string) => {
    let o = owners.get(owner);
    if (!o) owners.set(owner, (o = { forecast: list.map(() => 0), actual: list.map(() => 0) }));
    return o;
  };
  list.forEach((p, i) => {
    let total = 0;
    for (const [owner, weighted] of openAt(p.startMs)) {
      ownerOf(owner).forecast[i] = cents(weighted);
      total += weighted;
    }
    overall.forecast[i] = cents(total);
  });
  // A deal counts by its last close: a win counts unless a DealReopened of the deal follows it.
  const lastReopen = new Map<string, number>();
  events.forEach((e, index) => {
    if (e.type === 'DealReopened') lastReopen.set((e.data as { dealId: string }).dealId, index);
  });
  const counts = (e: RecordedEvent, index: number): boolean =>
    e.type === 'DealWon' && (lastReopen.get((e.data as { dealId: string }).dealId) ?? -1) < index;
  const openers = new Map<string, string>();
  for (const [index, e] of events.entries()) {
    const d = e.data as { dealId: string; ownerId?: string; amount: number };
    if (e.type === 'DealOpened') openers.set(d.dealId, d.ownerId || 'unassigned');
    if (!counts(e, index)) continue;
    const at = Date.parse(e.occurredAt);
    const i = list.findIndex((p) => p.startMs <= at && at < p.endMs);
    if (i < 0) continue;
    ownerOf(openers.get(d.dealId) ?? 'unassigned').actual[i] += cents(d.amount);
    overall.actual[i] += cents(d.amount);
  }

  const series = ({ forecast, actual }: { forecast: number[]; actual: number[] }): AccuracySeries => {
    const rows = list.map((p, i) => {
      const error = actual[i] - forecast[i];
      return {
        start: p.start,
        end: p.end,
        forecast: money(forecast[i] / 100),
        actual: money(actual[i] / 100),
        error: money(error / 100),
        absoluteError: money(Math.abs(error) / 100),
        percentageError: actual[i] === 0 ? null : rate(error / actual[i]),
      };
    });
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const errors = list.map((_, i) => actual[i] - forecast[i]);
    return {
      periods: rows,
      total: {
        forecast: money(sum(forecast) / 100),
        actual: money(sum(actual) / 100),
        error: money(sum(errors) / 100),
        absoluteError: money(sum(errors.map(Math.abs)) / 100),
        bias: rate(ratio(sum(errors), sum(forecast))),
        meanAbsolutePercentageError: rate(mean(list.flatMap((_, i) => (actual[i] === 0 ? [] : [Math.abs(errors[i] / actual[i])])))),
      },
    };
  };

  const report: ForecastAccuracyReport = { asOf: new Date(asOf).toISOString(), interval: params.interval, ...series(overall) };
  if (params.groupBy === 'owner') {
    // Listed: an owner with a deal open at some start or won in some period.
    const listed = new Set<string>();
    list.forEach((p) => {
      for (const [owner] of openAt(p.startMs)) listed.add(owner);
    });
    for (const [index, e] of events.entries()) {
      const at = Date.parse(e.occurredAt);
      const d = e.data as { dealId: string };
      if (counts(e, index) && list.some((p) => p.startMs <= at && at < p.endMs)) listed.add(openers.get(d.dealId) ?? 'unassigned');
    }
    report.groupBy = 'owner';
    report.groups = [...listed].sort().map((key) => ({ key, ...series(ownerOf(key)) }));
  }
  return report;
}
