import type { RecordedEvent } from '@chronicle/event-store';
import { rate, ratio } from '../common/numbers';
import { Interval, periods } from '../common/periods';
import type { ChurnPeriod, ChurnReport } from './query';

type Lifecycle = { at: number; type: string };
interface Customer {
  channel: string;
  region: string;
  owner: string;
  events: Lifecycle[];
}

/** Active at `t`: the customer's lifecycle events with occurredAt < t, folded as the customer decider does. */
function activeAt(customer: Customer, t: number): boolean {
  let status = 'prospect';
  for (const e of customer.events) {
    if (e.at >= t) continue;
    if (e.type === 'CustomerAcquired') status = status === 'churned' ? 'churned' : 'active';
    else if (e.type === 'CustomerChurned') status = 'churned';
    else status = 'active';
  }
  return status === 'active';
}

/** Reference fold for tests: the churn report straight from the raw events, customer by customer, by the definition in docs/reports.md. */
export function referenceChurn(
  events: RecordedEvent[],
  from: string,
  to: string,
  interval: Interval,
  groupBy?: 'channel' | 'region' | 'owner',
): ChurnReport {
  const customers = new Map<string, Customer>();
  const of = (id: string) => {
    let c = customers.get(id);
    if (!c) customers.set(id, (c = { channel: 'unknown', region: 'unknown', owner: 'unassigned', events: [] }));
    return c;
  };
  for (const event of events) {
    const d = event.data as { customerId: string; region?: string; ownerId?: string; channel?: string };
    const at = Date.parse(event.occurredAt);
    switch (event.type) {
      case 'CustomerRegistered':
        Object.assign(of(d.customerId), { region: d.region ?? 'unknown', owner: d.ownerId ?? 'unassigned' });
        break;
      case 'CustomerProfileUpdated':
        if (d.region !== undefined) of(d.customerId).region = d.region;
        break;
      case 'CustomerOwnerAssigned':
        of(d.customerId).owner = d.ownerId!;
        break;
      case 'CustomerAcquired':
        of(d.customerId).channel = d.channel!;
        of(d.customerId).events.push({ at, type: event.type });
        break;
      case 'CustomerChurned':
      case 'CustomerReactivated':
        of(d.customerId).events.push({ at, type: event.type });
        break;
    }
  }
  const list = periods(from, to, interval);
  const series = (members: Customer[]): ChurnPeriod[] =>
    list.map((p) => {
      const count = (type: string) =>
        members.reduce((n, c) => n + c.events.filter((e) => e.type === type && e.at >= p.startMs && e.at < p.endMs).length, 0);
      const customersAtStart = members.filter((c) => activeAt(c, p.startMs)).length;
      const churned = count('CustomerChurned');
      return {
        start: p.start,
        end: p.end,
        customersAtStart,
        newCustomers: count('CustomerAcquired'),
        reactivated: count('CustomerReactivated'),
        churned,
        customersAtEnd: members.filter((c) => activeAt(c, p.endMs)).length,
        churnRate: rate(ratio(churned, customersAtStart)),
      };
    });
  const all = [...customers.values()];
  const report: ChurnReport = { interval, periods: series(all) };
  if (groupBy) {
    const end = list.length ? list[list.length - 1].endMs : -Infinity;
    const listed = all.filter((c) => c.events.some((e) => e.at < end));
    const keys = [...new Set(listed.map((c) => c[groupBy]))].sort();
    report.groupBy = groupBy;
    report.groups = keys.map((key) => ({ key, periods: series(all.filter((c) => c[groupBy] === key)) }));
  }
  return report;
}
