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
 *
 * Merges (docs/merging.md): a merged customer's acquisition leaves its day and channel at its
 * CustomerMerged and comes back at its CustomerUnmerged; `customers` (customer → its acquisition
 * day and channel, and whether it is merged) says what to withdraw and restore. An acquisition of
 * a customer merged at the time counts nothing until its unmerge.
 */
export const CAC_PROJECTION = 'cac';
export const UNATTRIBUTED = 'unattributed';

export interface CacDayDocument {
  _id: string;
  c: Row[];
  [key: string]: unknown;
}

export interface CacCustomerDocument {
  _id: string;
  /** The day (YYYY-MM-DD) and channel of its CustomerAcquired (once per customer); null before it. */
  acquired: { day: string; channel: string } | null;
  merged: boolean;
  [key: string]: unknown;
}

async function add(ctx: ProjectionContext, dayId: string, channel: string, spend: number, customers: number): Promise<void> {
  const day = (await ctx.get<CacDayDocument>('days', dayId)) ?? { _id: dayId, c: [] };
  addRow(day.c, channel, [spend, customers, customers ? 0 : 1]);
  ctx.put('days', day);
}

const customer = async (ctx: ProjectionContext, customerId: string): Promise<CacCustomerDocument> =>
  (await ctx.get<CacCustomerDocument>('customers', customerId)) ?? { _id: customerId, acquired: null, merged: false };

/** The merged customer's copy decides (the survivor is unchanged); a repeated copy changes nothing. */
async function merge(ctx: ProjectionContext, d: { customerId: string; mergedId: string }, merged: boolean): Promise<void> {
  if (d.customerId !== d.mergedId) return;
  const doc = await customer(ctx, d.mergedId);
  if (doc.merged === merged) return;
  if (doc.acquired) await add(ctx, doc.acquired.day, doc.acquired.channel, 0, merged ? -1 : 1);
  ctx.put<CacCustomerDocument>('customers', { ...doc, merged });
}

export const cacProjection = defineProjection({
  name: CAC_PROJECTION,
  // 2: a merged customer's acquisition leaves its day until its unmerge (CustomerMerged, CustomerUnmerged).
  version: 2,
  collections: ['days', 'customers'],
  on: {
    SpendRecorded: ({ occurredAt, data: d }, ctx) => add(ctx, dayOf(occurredAt), d.channel ?? UNATTRIBUTED, d.amount, 0),
    async CustomerAcquired({ occurredAt, data: d }, ctx) {
      const doc = await customer(ctx, d.customerId);
      const acquired = { day: dayOf(occurredAt), channel: d.channel };
      ctx.put<CacCustomerDocument>('customers', { ...doc, acquired });
      if (!doc.merged) await add(ctx, acquired.day, acquired.channel, 0, 1);
    },
    CustomerMerged: ({ data: d }, ctx) => merge(ctx, d, true),
    CustomerUnmerged: ({ data: d }, ctx) => merge(ctx, d, false),
  },
});
