import { countDay, monthDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Lost deals by the stage they were lost from and the reason: one document per month, stage and
 * reason with the count and the amount lost per day. DealLost carries all of it, so nothing else
 * is read. A deal counts by its last close: DealReopened of a lost deal carries the loss it undoes
 * (closedAt, closedStage, lostReason, amount) and takes it back out of that day.
 */
export const LOST_DEALS_PROJECTION = 'lost-deals';

export interface LostCounters {
  deals: number;
  value: number;
}
export type LostDealsMonth = MonthDocument<LostCounters> & { stage: string; reason: string };

export const lostDealsProjection = defineProjection({
  name: LOST_DEALS_PROJECTION,
  // 2: DealReopened withdraws the loss it undoes.
  version: 2,
  collections: ['months'],
  indexes: { months: ['month'] },
  on: {
    DealLost(event, ctx) {
      const d = event.data;
      // Stages are slugs (no '|'), so `<month>|<stage>|<reason>` is unambiguous whatever the reason's text.
      return countDay<LostCounters>(
        ctx,
        'months',
        event.occurredAt,
        `${d.stage}|${d.reason}`,
        (month, _id) => ({ _id, month, stage: d.stage, reason: d.reason, days: {} }),
        () => ({ deals: 0, value: 0 }),
        (c) => {
          c.deals += 1;
          c.value += d.amount;
        },
      );
    },
    async DealReopened({ data: d }, ctx) {
      if (d.outcome !== 'lost') return;
      const { month, day } = monthDay(d.closedAt);
      const doc = await ctx.get<LostDealsMonth>('months', `${month}|${d.closedStage}|${d.lostReason}`);
      const counters = doc?.days[day];
      if (!doc || !counters) return; // no such loss counted (not in a valid history)
      counters.deals -= 1;
      counters.value -= d.amount;
      // Its last loss withdrawn, the day goes (no zero row for the reason, no float residue).
      if (counters.deals <= 0) delete doc.days[day];
      if (Object.keys(doc.days).length > 0) ctx.put('months', doc);
      else ctx.delete('months', doc._id);
    },
  },
});

/** The lost-deals month documents overlapping [startMs, endMs). */
export async function readLostDeals(access: ReadModelAccess, startMs: number, endMs: number): Promise<LostDealsMonth[]> {
  return readMonths(await access.collection<LostDealsMonth>(LOST_DEALS_PROJECTION, 'months'), startMs, endMs);
}
