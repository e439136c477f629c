import { ERASED } from '@chronicle/domain';
import type { CustomerPersonalDataErased, CustomerProfileUpdated, CustomerRegistered, DealWon, PurchaseRecorded } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';

/**
 * Lifetime revenue per customer = amounts of its won deals + its purchases (`customers`), and the
 * running totals over acquired customers (`totals`, one document). A customer is acquired once it
 * has a won deal or a purchase (as CustomerAcquired says); `rank` (its revenue) is set only then,
 * so "top N" is one descending range of the `rank` index, never a scan of all customers.
 */
export const CUSTOMER_VALUE_PROJECTION = 'customer-value';
export const TOTALS_ID = 'totals';

export type CustomerValueDocument = {
  _id: string;
  name: string | null;
  revenue: number;
  wonDeals: number;
  wonRevenue: number;
  purchases: number;
  purchaseRevenue: number;
  /** = revenue once acquired; absent before. */
  rank?: number;
};
export type CustomerValueTotals = { _id: string; customers: number; revenue: number };

const blank = (id: string, name: string | null): CustomerValueDocument => ({ _id: id, name, revenue: 0, wonDeals: 0, wonRevenue: 0, purchases: 0, purchaseRevenue: 0 });

async function earn(ctx: ProjectionContext, customerId: string, amount: number, kind: 'deal' | 'purchase'): Promise<void> {
  const doc = (await ctx.get<CustomerValueDocument>('customers', customerId)) ?? blank(customerId, null);
  const totals = (await ctx.get<CustomerValueTotals>('totals', TOTALS_ID)) ?? { _id: TOTALS_ID, customers: 0, revenue: 0 };
  if (doc.rank === undefined) totals.customers += 1;
  totals.revenue += amount;
  doc.revenue += amount;
  if (kind === 'deal') {
    doc.wonDeals += 1;
    doc.wonRevenue += amount;
  } else {
    doc.purchases += 1;
    doc.purchaseRevenue += amount;
  }
  doc.rank = doc.revenue;
  ctx.put('customers', doc);
  ctx.put('totals', totals);
}

export const customerValueProjection: Projection = {
  name: CUSTOMER_VALUE_PROJECTION,
  version: 1,
  collections: ['customers', 'totals'],
  indexes: { customers: ['rank'] },
  eventTypes: ['CustomerRegistered', 'CustomerProfileUpdated', 'CustomerPersonalDataErased', 'PurchaseRecorded', 'DealWon'],

  scrubAfter: ['CustomerPersonalDataErased'],

  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    switch (event.type) {
      case 'CustomerRegistered': {
        const d = (event as RecordedEvent<CustomerRegistered['data']>).data;
        const doc = (await ctx.get<CustomerValueDocument>('customers', d.customerId)) ?? blank(d.customerId, null);
        ctx.put('customers', { ...doc, name: d.name });
        return;
      }
      case 'CustomerProfileUpdated': {
        const d = (event as RecordedEvent<CustomerProfileUpdated['data']>).data;
        if (d.name === undefined) return;
        const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
        if (doc) ctx.put('customers', { ...doc, name: d.name });
        return;
      }
      case 'CustomerPersonalDataErased': {
        const d = (event as RecordedEvent<CustomerPersonalDataErased['data']>).data;
        const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
        if (doc?.name) ctx.put('customers', { ...doc, name: ERASED });
        return;
      }
      case 'PurchaseRecorded': {
        const d = (event as RecordedEvent<PurchaseRecorded['data']>).data;
        return earn(ctx, d.customerId, d.amount, 'purchase');
      }
      case 'DealWon': {
        const d = (event as RecordedEvent<DealWon['data']>).data;
        return earn(ctx, d.customerId, d.amount, 'deal');
      }
    }
  },
};
