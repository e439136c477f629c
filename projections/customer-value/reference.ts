import type { RecordedEvent } from '@chronicle/event-store';
import { money } from '../common/numbers';
import type { CustomerValueReport, CustomerValueRow } from './query';

type Customer = Omit<CustomerValueRow, 'customerId'> & { acquired: boolean };

/** The customer-value report folded straight from the raw events (test oracle). */
export function customerValueReference(events: RecordedEvent[], limit: number, asOf: string): CustomerValueReport {
  const customers = new Map<string, Customer>();
  const customer = (id: string) => {
    let c = customers.get(id);
    if (!c)
      customers.set(id, (c = { name: null, revenue: 0, wonDeals: 0, wonRevenue: 0, purchases: 0, purchaseRevenue: 0, acquired: false }));
    return c;
  };
  // A deal counts by its last close: a win followed by a DealReopened of its deal does not count.
  const lastReopen = new Map<string, number>();
  for (const e of events) if (e.type === 'DealReopened') lastReopen.set((e.data as { dealId: string }).dealId, e.globalPosition);
  const undone = (e: RecordedEvent, dealId: string) => (lastReopen.get(dealId) ?? -1) > e.globalPosition;
  let revenue = 0;
  for (const e of events) {
    const d = e.data as { customerId: string; dealId?: string; name?: string; amount: number };
    if (e.type === 'CustomerRegistered' || (e.type === 'CustomerProfileUpdated' && d.name !== undefined))
      customer(d.customerId).name = d.name!;
    if (e.type === 'DealWon' || e.type === 'PurchaseRecorded') {
      const c = customer(d.customerId);
      // Acquired by its first win or purchase, even a win reopened later.
      c.acquired = true;
      if (e.type === 'DealWon' && undone(e, d.dealId!)) continue;
      c.revenue += d.amount;
      revenue += d.amount;
      if (e.type === 'DealWon') {
        c.wonDeals += 1;
        c.wonRevenue += d.amount;
      } else {
        c.purchases += 1;
        c.purchaseRevenue += d.amount;
      }
    }
  }
  const acquired = [...customers].filter(([, c]) => c.acquired);
  // By revenue as shown (cents), ties by id.
  acquired.sort(([a, x], [b, y]) => money(y.revenue) - money(x.revenue) || (a < b ? -1 : 1));
  const top: CustomerValueRow[] = acquired.slice(0, limit).map(([customerId, c]) => ({
    customerId,
    name: c.name,
    revenue: money(c.revenue),
    wonDeals: c.wonDeals,
    wonRevenue: money(c.wonRevenue),
    purchases: c.purchases,
    purchaseRevenue: money(c.purchaseRevenue),
  }));
  return {
    asOf,
    customers: acquired.length,
    revenue: money(revenue),
    averageClv: acquired.length ? money(revenue / acquired.length) : null,
    top,
  };
}
