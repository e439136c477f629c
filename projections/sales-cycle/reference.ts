import type { Pipeline } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { DAY_MS, days, mean, median, nearestRank } from '../common/numbers';
import type { SalesCycleReport } from './query';

/** Reference fold for tests: the sales-cycle report straight from the raw events, by the definition in docs/reports.md. */
export function referenceSalesCycle(
  events: RecordedEvent[],
  from: string,
  to: string,
  groupBy: 'source' | 'owner' | undefined,
  pipeline: Pipeline,
): SalesCycleReport {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  const inRange = (ms: number) => ms >= fromMs && ms < toMs;
  const deals = new Map<string, { opened: number; stage: string; entered: number; source: string; owner: string; closed: boolean }>();
  const wins: { ms: number; source: string; owner: string; dealId: string; index: number }[] = [];
  const exits: { stage: string; ms: number }[] = [];
  const lastReopen = new Map<string, number>();
  for (const [index, event] of events.entries()) {
    const at = Date.parse(event.occurredAt);
    const d = event.data as { dealId: string; stage: string; source: string; ownerId: string; to: string };
    if (event.type === 'DealOpened') {
      deals.set(d.dealId, { opened: at, stage: d.stage, entered: at, source: d.source, owner: d.ownerId, closed: false });
      continue;
    }
    const deal = deals.get(d.dealId);
    if (event.type === 'DealReopened') {
      // Open again: a new stay in `stage`; the cycle still runs from the opening.
      lastReopen.set(d.dealId, index);
      if (deal?.closed) Object.assign(deal, { closed: false, stage: d.stage, entered: at });
      continue;
    }
    if (!deal || deal.closed || !['DealStageChanged', 'DealWon', 'DealLost'].includes(event.type)) continue;
    if (inRange(at)) exits.push({ stage: deal.stage, ms: at - deal.entered });
    if (event.type === 'DealStageChanged') Object.assign(deal, { stage: d.to, entered: at });
    else {
      deal.closed = true;
      if (event.type === 'DealWon' && inRange(at))
        wins.push({ ms: at - deal.opened, source: deal.source, owner: deal.owner, dealId: d.dealId, index });
    }
  }
  // A deal counts by its last close: a win followed by a DealReopened of the deal counts nowhere.
  const won = wins.filter((w) => (lastReopen.get(w.dealId) ?? -1) < w.index);
  const stats = (key: string, list: { ms: number }[]) => {
    const cycleDays = list.map((w) => w.ms / DAY_MS);
    const sum = list.reduce((a, w) => a + w.ms, 0);
    return {
      key,
      wonDeals: list.length,
      avgDays: list.length ? days(sum / list.length / DAY_MS) : null,
      medianDays: days(median(cycleDays)),
      p90Days: days(nearestRank(cycleDays, 0.9)),
    };
  };
  const keys = groupBy ? [...new Set(won.map((w) => w[groupBy]))].sort() : [];
  const configured = pipeline.stages.map((s) => s.name);
  const extra = [...new Set(exits.map((e) => e.stage))].filter((s) => !configured.includes(s)).sort();
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    overall: stats('all', won),
    groups: keys.map((key) =>
      stats(
        key,
        won.filter((w) => w[groupBy!] === key),
      ),
    ),
    stages: [...configured, ...extra].map((stage) => {
      const list = exits.filter((e) => e.stage === stage);
      const avg = mean(list.map((e) => e.ms));
      return { stage, exits: list.length, avgDays: avg === null ? null : days(avg / DAY_MS) };
    }),
  };
}
