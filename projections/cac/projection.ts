import type { CustomerAcquired, SpendRecorded } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';
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

export const cacProjection: Projection = {
  name: CAC_PROJECTION,
  version: 1,
  collections: ['days'],
  eventTypes: ['SpendRecorded', 'CustomerAcquired'],

  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    if (event.type === 'SpendRecorded') {
      const d = (event as RecordedEvent<SpendRecorded['data']>).data;
      return add(ctx, event.occurredAt, d.channel ?? UNATTRIBUTED, d.amount, 0);
    }
    const d = (event as RecordedEvent<CustomerAcquired['data']>).data;
    return add(ctx, event.occurredAt, d.channel, 0, 1);
  },
};
