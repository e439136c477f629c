import type { RecordedEvent } from '@chronicle/event-store';
import { money } from '../common/numbers';
import type { CustomerValueReport, CustomerValueRow } from './query';

type Customer = Omit<CustomerValueRow, 'customerId'>;

/** The customer-value report folded straight from the raw events (test oracle). */
export function customerValueReference(events: RecordedEvent[], limit: number, asOf: string): CustomerValueReport {
  const customers = new Map<string, Customer>();
  const customer = (id: string) => {
    let c = customers.get(id);
    if (!c) customers.set(id, (c = { name: null, revenue: 0, wonDeals: 0, wonRevenue: 0, purchases: 0, purchaseRevenue: 0 }));
    return c;
  };
  let revenue = 0;
  for (const e of events) {
    const d = e.data as { customerId: string; name?: string; amount: number };
    if (e.type === 'CustomerRegistered' || (e.type === 'CustomerProfileUpdated' && d.name !== undefined))
      customer(d.customerId).name = d.name!;
    if (e.type === 'DealWon' || e.type === 'PurchaseRecorded') {
      const c = customer(d.customerId);
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
  const acquired = [...customers].filter(([, c]) => c.wonDeals + c.purchases > 0);
  acquired.sort(([a, x], [b, y]) => y.revenue - x.revenue || (a < b ? -1 : 1));
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
