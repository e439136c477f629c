import type { Pipeline } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { DAY_MS, days, money } from '../common/numbers';
import type { PipelineReport } from './query';

/**
 * Reference fold for tests: the pipeline at asOf computed straight from the raw events, deal by
 * deal, by the definition in docs/reports.md (no deltas, no day buckets).
 */
export function referencePipeline(events: RecordedEvent[], asOf: string, pipeline: Pipeline): PipelineReport {
  const asOfMs = Date.parse(asOf);
  const deals = new Map<string, { stage: string; amount: number; entered: number; open: boolean; archived?: boolean }>();
  for (const event of events) {
    const at = Date.parse(event.occurredAt);
    if (at > asOfMs) continue;
    const d = event.data as { dealId: string; stage?: string; amount?: number; to?: string | number };
    const deal = deals.get(d.dealId);
    switch (event.type) {
      case 'DealOpened':
        deals.set(d.dealId, { stage: d.stage!, amount: d.amount!, entered: at, open: true });
        break;
      case 'DealStageChanged':
        if (deal) Object.assign(deal, { stage: d.to as string, entered: at });
        break;
      case 'DealAmountChanged':
        if (deal) deal.amount = d.to as number;
        break;
      case 'DealWon':
      case 'DealLost':
        if (deal) deal.open = false;
        break;
      // Archived: out of the open pipeline; restored: back in, as if it entered its stage at the restore.
      case 'DealArchived':
        if (deal) deal.archived = true;
        break;
      case 'DealRestored':
        if (deal?.archived) Object.assign(deal, { archived: false, entered: at });
        break;
      // Reopened: open again in its stage from the reopen, with the amount it closed with.
      case 'DealReopened':
        if (deal && !deal.open) Object.assign(deal, { open: true, stage: d.stage!, amount: d.amount!, entered: at });
        break;
    }
  }
  const open = [...deals.values()].filter((d) => d.open && !d.archived);
  const configured = pipeline.stages.map((s) => s.name);
  const extra = [...new Set(open.map((d) => d.stage))].filter((s) => !configured.includes(s)).sort();
  const totals = { deals: 0, value: 0, weightedValue: 0 };
  const stages = [...configured, ...extra].map((stage) => {
    const inStage = open.filter((d) => d.stage === stage);
    const probability = pipeline.stages.find((s) => s.name === stage)?.probability ?? 0;
    const value = inStage.reduce((sum, d) => sum + d.amount, 0);
    const weighted = inStage.reduce((sum, d) => sum + d.amount * probability, 0);
    const ageMs = inStage.reduce((sum, d) => sum + (asOfMs - d.entered), 0);
    totals.deals += inStage.length;
    totals.value += value;
    totals.weightedValue += weighted;
    return {
      stage,
      deals: inStage.length,
      value: money(value),
      weightedValue: money(weighted),
      avgAgeDays: inStage.length ? days(ageMs / inStage.length / DAY_MS) : null,
    };
  });
  return {
    asOf: new Date(asOfMs).toISOString(),
    stages,
    totals: { deals: totals.deals, value: money(totals.value), weightedValue: money(totals.weightedValue) },
  };
}
