import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { dayOf } from '../common/periods';
import { addRow, Row } from '../common/rows';

/**
 * Spend and acquisitions per UTC day and channel: one document per day (`days`, `_id` =
 * YYYY-MM-DD) with rows [channel, spend, new customers, spend records]. Every period boundary is a UTC midnight,
 * so a period's figures are the sum of its days. Spend is counted under SpendRecorded.channel
 * (which already holds the campaign's channel when the spend names none), `unattributed` when it
 * has none; customers under CustomerAcquired.channel (their acquisition channel).
 */
export const CAC_PROJECTION = 'cac';
export const UNATTRIBUTED = 'unattributed';

export interface CacDayDocument {
  _id: string;
  c: Row[];
  [key: string]: unknown;
}

async function add(ctx: ProjectionContext, occurredAt: string, channel: string, spend: number, customers: number): Promise<void> {
  const dayId = dayOf(occurredAt);
  const day = (await ctx.get<CacDayDocument>('days', dayId)) ?? { _id: dayId, c: [] };
  addRow(day.c, channel, [spend, customers, customers ? 0 : 1]);
  ctx.put('days', day);
}

export const cacProjection = defineProjection({
  name: CAC_PROJECTION,
  version: 1,
  collections: ['days'],
  on: {
    SpendRecorded: ({ occurredAt, data: d }, ctx) => add(ctx, occurredAt, d.channel ?? UNATTRIBUTED, d.amount, 0),
    CustomerAcquired: ({ occurredAt, data: d }, ctx) => add(ctx, occurredAt, d.channel, 0, 1),
  },
});
