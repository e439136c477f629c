import { Pipeline, stageNames } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { dayWindow } from '../common/buckets';
import { money } from '../common/numbers';
import type { ReportParams } from '../common/report';
import type { LostDealsReport } from './query';

/** The lost-deals report folded straight from the raw events (test oracle). */
export function lostDealsReference(events: RecordedEvent[], params: ReportParams, pipeline: Pipeline): LostDealsReport {
  const { startMs, endMs, from, to } = dayWindow(params);
  // A deal counts by its last close: a loss followed by a DealReopened of the deal counts nowhere.
  const lastReopen = new Map<string, number>();
  events.forEach((e, i) => e.type === 'DealReopened' && lastReopen.set((e.data as { dealId: string }).dealId, i));
  const lost = events
    .filter(
      (e, i) =>
        e.type === 'DealLost' &&
        Date.parse(e.occurredAt) >= startMs &&
        Date.parse(e.occurredAt) < endMs &&
        (lastReopen.get((e.data as { dealId: string }).dealId) ?? -1) < i,
    )
    .map((e) => e.data as { amount: number; stage: string; reason: string });
  const figures = (list: typeof lost) => ({ deals: list.length, value: money(list.reduce((sum, l) => sum + l.amount, 0)) });
  const reasons = [...new Set(lost.map((l) => l.reason))].map((reason) => ({
    reason,
    ...figures(lost.filter((l) => l.reason === reason)),
  }));
  reasons.sort((a, b) => (a.deals !== b.deals ? b.deals - a.deals : a.reason < b.reason ? -1 : 1));
  const configured = stageNames(pipeline);
  const stages = [...configured, ...[...new Set(lost.map((l) => l.stage))].filter((s) => !configured.includes(s)).sort()];
  return {
    from,
    to,
    totals: figures(lost),
    byReason: reasons,
    byStage: stages.map((stage) => ({ stage, ...figures(lost.filter((l) => l.stage === stage)) })),
  };
}
