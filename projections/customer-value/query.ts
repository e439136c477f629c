import { assertCurrent } from '../common/buckets';
import { money } from '../common/numbers';
import type { ReportDefinition } from '../common/report';
import { CUSTOMER_VALUE_PROJECTION, CustomerValueDocument, CustomerValueTotals, TOTALS_ID } from './projection';
import { tableRow } from '../common/table';

/** A customer's lifetime revenue (won deals + purchases), as the report lists it. */
export type CustomerValueRow = Omit<CustomerValueDocument, '_id' | 'rank' | 'mergedInto' | 'acquired' | 'merged' | 'own'> & {
  customerId: string;
};
export interface CustomerValueReport {
  asOf: string;
  /**
   * Acquired customers: with at least one won deal or purchase, ever (a reopened win's acquisition stands).
   * A merged customer is not one: its revenue and acquisition are its survivor's (docs/merging.md).
   */
  customers: number;
  /** Σ revenue over all customers. */
  revenue: number;
  /** Mean lifetime revenue per acquired customer; null when none. */
  averageClv: number | null;
  /** The `limit` customers with the most revenue (ties by id). */
  top: CustomerValueRow[];
}

export const customerValueRow = (doc: CustomerValueDocument): CustomerValueRow => ({
  customerId: doc._id,
  name: doc.name,
  revenue: money(doc.revenue),
  wonDeals: doc.wonDeals,
  wonRevenue: money(doc.wonRevenue),
  purchases: doc.purchases,
  purchaseRevenue: money(doc.purchaseRevenue),
});

/** Lifetime revenue per customer (won deals + purchases) to date: top N and average CLV. */
export const customerValueReport = {
  name: 'customer-value',
  description: 'Lifetime revenue per customer (won deals + purchases): top N (?limit, default 10) and average CLV over acquired customers',
  projections: [CUSTOMER_VALUE_PROJECTION],
  tables: {
    top: (r: CustomerValueReport) => r.top.map((c) => tableRow(c)),
    totals: (r: CustomerValueReport) => [tableRow({ ...r, top: undefined })],
  },
  async run(params, { readModels }): Promise<CustomerValueReport> {
    const asOf = assertCurrent('customer-value', params);
    const [customers, totalsCollection] = await Promise.all([
      readModels.collection<CustomerValueDocument>(CUSTOMER_VALUE_PROJECTION, 'customers'),
      readModels.collection<CustomerValueTotals>(CUSTOMER_VALUE_PROJECTION, 'totals'),
    ]);
    const [top, totals] = await Promise.all([
      customers.find({ rank: { $gte: 0 } }, { sort: { rank: -1 }, limit: params.limit }),
      totalsCollection.findById(TOTALS_ID),
    ]);
    const count = totals?.customers ?? 0;
    return {
      asOf,
      customers: count,
      revenue: money(totals?.revenue ?? 0),
      averageClv: count === 0 ? null : money(totals!.revenue / count),
      top: top.map(customerValueRow),
    };
  },
} satisfies ReportDefinition;
