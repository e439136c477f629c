import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Lost deals by the stage they were lost from and the reason: one document per month, stage and
 * reason with the count and the amount lost per day. DealLost carries all of it, so nothing else
 * is read.
 */
export const LOST_DEALS_PROJECTION = 'lost-deals';

export interface LostCounters {
  deals: number;
  value: number;
}
export type LostDealsMonth = MonthDocument<LostCounters> & { stage: string; reason: string };

export const lostDealsProjection = defineProjection({
  name: LOST_DEALS_PROJECTION,
  version: 1,
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
  },
});

/** The lost-deals month documents overlapping [startMs, endMs). */
export async function readLostDeals(access: ReadModelAccess, startMs: number, endMs: number): Promise<LostDealsMonth[]> {
  return readMonths(await access.collection<LostDealsMonth>(LOST_DEALS_PROJECTION, 'months'), startMs, endMs);
}
