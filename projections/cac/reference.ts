import type { RecordedEvent } from '@chronicle/event-store';
import { money } from '../common/numbers';
import { Interval, periods } from '../common/periods';
import type { CacLine, CacReport } from './query';

/** Reference fold for tests: the CAC report straight from the raw events, by the definition in docs/reports.md. */
export function referenceCac(events: RecordedEvent[], from: string, to: string, interval: Interval, groupBy?: string): CacReport {
  const list = periods(from, to, interval);
  const facts = events.flatMap((e) => {
    const at = Date.parse(e.occurredAt);
    if (e.type === 'SpendRecorded') {
      const d = e.data as { amount: number; channel?: string | null };
      return [{ at, channel: d.channel ?? 'unattributed', spend: d.amount, customers: 0 }];
    }
    if (e.type === 'CustomerAcquired') return [{ at, channel: (e.data as { channel: string }).channel, spend: 0, customers: 1 }];
    return [];
  });
  const line = (list: typeof facts): CacLine => {
    const spend = list.reduce((a, f) => a + f.spend, 0);
    const customers = list.reduce((a, f) => a + f.customers, 0);
    return { spend: money(spend), newCustomers: customers, cac: customers ? money(spend / customers) : null };
  };
  const inReport = facts.filter((f) => list.some((p) => f.at >= p.startMs && f.at < p.endMs));
  const channels = [...new Set(inReport.map((f) => f.channel))].sort((a, b) =>
    a === 'unattributed' ? 1 : b === 'unattributed' ? -1 : a < b ? -1 : a > b ? 1 : 0,
  );
  return {
    interval,
    periods: list.map((p) => {
      const inPeriod = facts.filter((f) => f.at >= p.startMs && f.at < p.endMs);
      const row = { start: p.start, end: p.end, ...line(inPeriod) };
      return groupBy === 'channel'
        ? { ...row, byChannel: channels.map((channel) => ({ channel, ...line(inPeriod.filter((f) => f.channel === channel)) })) }
        : row;
    }),
    total: line(inReport),
  };
}
