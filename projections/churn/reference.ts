import type { RecordedEvent } from '@chronicle/event-store';
import { rate, ratio } from '../common/numbers';
import { Interval, periods } from '../common/periods';
import type { ChurnPeriod, ChurnReason, ChurnReport } from './query';

type Lifecycle = { at: number; type: string; reason?: string };
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
    const d = event.data as { customerId: string; region?: string; ownerId?: string; channel?: string; reason?: string };
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
        of(d.customerId).events.push({ at, type: event.type, reason: d.reason });
        break;
      case 'CustomerReactivated':
        of(d.customerId).events.push({ at, type: event.type });
        break;
    }
  }
  const list = periods(from, to, interval);
  const churnsIn = (c: Customer, startMs: number, endMs: number) =>
    c.events.filter((e) => e.type === 'CustomerChurned' && e.at >= startMs && e.at < endMs);
  /** The churns of `members` in [startMs, endMs) by reason, most first, then by reason. */
  const reasons = (members: Customer[], startMs: number, endMs: number): ChurnReason[] => {
    const counts = new Map<string, number>();
    for (const c of members) for (const e of churnsIn(c, startMs, endMs)) counts.set(e.reason!, (counts.get(e.reason!) ?? 0) + 1);
    return [...counts]
      .map(([reason, churned]) => ({ reason, churned }))
      .sort((a, b) => b.churned - a.churned || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
  };
  const series = (members: Customer[]): ChurnPeriod[] =>
    list.map((p) => {
      const count = (type: string) =>
        members.reduce((n, c) => n + c.events.filter((e) => e.type === type && e.at >= p.startMs && e.at < p.endMs).length, 0);
      const atStart = members.filter((c) => activeAt(c, p.startMs));
      const customersAtStart = atStart.length;
      const churned = count('CustomerChurned');
      // Active at the start and never churned in [start, end), whatever happens after a churn.
      const retained = atStart.filter((c) => churnsIn(c, p.startMs, p.endMs).length === 0).length;
      return {
        start: p.start,
        end: p.end,
        customersAtStart,
        newCustomers: count('CustomerAcquired'),
        reactivated: count('CustomerReactivated'),
        churned,
        customersAtEnd: members.filter((c) => activeAt(c, p.endMs)).length,
        churnRate: rate(ratio(churned, customersAtStart)),
        retained,
        retentionRate: rate(ratio(retained, customersAtStart)),
        churnedByReason: reasons(members, p.startMs, p.endMs),
      };
    });
  const range = (members: Customer[]) => (list.length ? reasons(members, list[0].startMs, list[list.length - 1].endMs) : []);
  const all = [...customers.values()];
  const report: ChurnReport = { interval, periods: series(all), churnedByReason: range(all) };
  if (groupBy) {
    const end = list.length ? list[list.length - 1].endMs : -Infinity;
    const listed = all.filter((c) => c.events.some((e) => e.at < end));
    const keys = [...new Set(listed.map((c) => c[groupBy]))].sort();
    report.groupBy = groupBy;
    report.groups = keys.map((key) => {
      const members = all.filter((c) => c[groupBy] === key);
      return { key, periods: series(members), churnedByReason: range(members) };
    });
  }
  return report;
}
