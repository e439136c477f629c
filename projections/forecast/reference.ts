import { Pipeline, stageProbability } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { money } from '../common/numbers';
import { byMonth, ForecastMonth, ForecastReport } from './query';
import { closeMonth, NO_CLOSE_DATE } from './projection';

/** The forecast folded straight from the raw events (test oracle): the open deals after the last event. */
export function forecastReference(events: RecordedEvent[], pipeline: Pipeline, asOf: string): ForecastReport {
  const open = new Map<string, { stage: string; amount: number; expectedCloseDate?: string }>();
  // Closed deals' expected close dates, for a reopen (its event does not carry one).
  const closed = new Map<string, string | undefined>();
  for (const e of events) {
    const d = e.data as { dealId: string; stage: string; amount: number; expectedCloseDate?: string; to: never };
    switch (e.type) {
      case 'DealOpened':
        open.set(d.dealId, { stage: d.stage, amount: d.amount, expectedCloseDate: d.expectedCloseDate });
        break;
      case 'DealStageChanged':
        open.get(d.dealId)!.stage = d.to;
        break;
      case 'DealAmountChanged':
        open.get(d.dealId)!.amount = d.to;
        break;
      case 'DealExpectedCloseDateChanged':
        open.get(d.dealId)!.expectedCloseDate = d.to;
        break;
      case 'DealWon':
      case 'DealLost':
        closed.set(d.dealId, open.get(d.dealId)!.expectedCloseDate);
        open.delete(d.dealId);
        break;
      // Open again, in its stage and with its amount, under the close date it had.
      case 'DealReopened':
        open.set(d.dealId, { stage: d.stage, amount: d.amount, expectedCloseDate: closed.get(d.dealId) });
        closed.delete(d.dealId);
        break;
    }
  }
  const deals = [...open.values()].map((deal) => ({ ...deal, month: closeMonth(deal.expectedCloseDate) }));
  const figures = (list: typeof deals) => ({
    deals: list.length,
    value: money(list.reduce((sum, deal) => sum + deal.amount, 0)),
    weightedValue: money(list.reduce((sum, deal) => sum + deal.amount * stageProbability(pipeline, deal.stage), 0)),
  });
  const months = [...new Set([...deals.map((deal) => deal.month), NO_CLOSE_DATE])];
  const rows: ForecastMonth[] = months.map((month) => ({ month, ...figures(deals.filter((deal) => deal.month === month)) }));
  return { asOf, months: rows.sort(byMonth), totals: figures(deals) };
}
