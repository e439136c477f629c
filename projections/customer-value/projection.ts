import { ERASED } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { money } from '../common/numbers';

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
  /**
   * = revenue in cents once acquired; absent before. In cents, as shown, so that ties go by id, never
   * by a rounding residue (withdrawn wins leave some), and a residue below 0 never drops a customer.
   */
  rank?: number;
};
export type CustomerValueTotals = { _id: string; customers: number; revenue: number };

const blank = (id: string, name: string | null): CustomerValueDocument => ({
  _id: id,
  name,
  revenue: 0,
  wonDeals: 0,
  wonRevenue: 0,
  purchases: 0,
  purchaseRevenue: 0,
});

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
  doc.rank = money(doc.revenue);
  ctx.put('customers', doc);
  ctx.put('totals', totals);
}

/**
 * A reopened win (DealReopened) leaves the customer's revenue and the totals: a deal counts by its
 * last close. The customer stays acquired (its acquisition stands), so it keeps its rank.
 */
async function withdrawWin(ctx: ProjectionContext, customerId: string, amount: number): Promise<void> {
  const doc = await ctx.get<CustomerValueDocument>('customers', customerId);
  if (!doc || doc.wonDeals === 0) return; // no win counted to withdraw (never, through the commands)
  const totals = (await ctx.get<CustomerValueTotals>('totals', TOTALS_ID)) ?? { _id: TOTALS_ID, customers: 0, revenue: 0 };
  totals.revenue -= amount;
  doc.wonDeals -= 1;
  doc.wonRevenue -= amount;
  doc.revenue -= amount;
  if (doc.rank !== undefined) doc.rank = money(doc.revenue);
  ctx.put('customers', doc);
  ctx.put('totals', totals);
}

export const customerValueProjection = defineProjection({
  name: CUSTOMER_VALUE_PROJECTION,
  // 2: reopened deals (DealReopened) withdraw the win they undo; rank in cents.
  version: 2,
  collections: ['customers', 'totals'],
  indexes: { customers: ['rank'] },
  scrubAfter: ['CustomerPersonalDataErased'],
  on: {
    async CustomerRegistered({ data: d }, ctx) {
      const doc = (await ctx.get<CustomerValueDocument>('customers', d.customerId)) ?? blank(d.customerId, null);
      ctx.put('customers', { ...doc, name: d.name });
    },
    async CustomerProfileUpdated({ data: d }, ctx) {
      if (d.name === undefined) return;
      const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
      if (doc) ctx.put('customers', { ...doc, name: d.name });
    },
    async CustomerPersonalDataErased({ data: d }, ctx) {
      const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
      if (doc?.name) ctx.put('customers', { ...doc, name: ERASED });
    },
    PurchaseRecorded: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount, 'purchase'),
    DealWon: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount, 'deal'),
    DealReopened({ data: d }, ctx) {
      if (d.outcome === 'won') return withdrawWin(ctx, d.customerId, d.amount);
    },
  },
});
