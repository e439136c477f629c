import { money, ratio } from '../common/numbers';
import { dayOf, Interval, periodIndex, periods } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { sortedKeys, sumRows } from '../common/rows';
import { CAC_PROJECTION, CacDayDocument, UNATTRIBUTED } from './projection';
import { tableRow } from '../common/table';

export interface CacLine {
  spend: number;
  newCustomers: number;
  cac: number | null;
}

export interface CacReport {
  interval: Interval;
  periods: (CacLine & { start: string; end: string; byChannel?: (CacLine & { channel: string })[] })[];
  total: CacLine;
}

const line = (spend: number, newCustomers: number): CacLine => {
  const cac = ratio(spend, newCustomers);
  return { spend: money(spend), newCustomers, cac: cac === null ? null : money(cac) };
};

/**
 * GET /reports/cac?from&to&interval[&groupBy=channel] — per period [start, end): spend = Σ
 * SpendRecorded (marketing and sales), newCustomers = CustomerAcquired, cac = spend /
 * newCustomers (null without new customers). With groupBy=channel every period has `byChannel`:
 * spend by its channel (or its campaign's; `unattributed` without one), customers by their
 * acquisition channel. Every channel with a spend record or an acquisition in any of the
 * report's periods is listed in every period (zeros included), by name, `unattributed` last.
 * `total` is over all the periods (from the start of the first to the end of the last).
 */
export async function buildCacReport(
  params: Pick<ReportParams, 'from' | 'to' | 'interval' | 'groupBy'>,
  context: ReportContext,
): Promise<CacReport> {
  const list = periods(params.from, params.to, params.interval);
  const byChannel = params.groupBy === 'channel';
  const sums = list.map(() => new Map<string, number[]>());
  if (list.length > 0) {
    const days = await context.readModels.collection<CacDayDocument>(CAC_PROJECTION, 'days');
    const docs = await days.find({ _id: { $gte: dayOf(list[0].startMs), $lt: dayOf(list[list.length - 1].endMs) } });
    for (const doc of docs) {
      const i = periodIndex(list, Date.parse(`${doc._id}T00:00:00.000Z`));
      if (i >= 0) sumRows(sums[i], doc.c);
    }
  }
  const channels = sortedKeys(
    sums.flatMap((s) => [...s.keys()]),
    UNATTRIBUTED,
  );
  const total = { spend: 0, newCustomers: 0 };
  const rows = list.map((period, i) => {
    let spend = 0;
    let newCustomers = 0;
    for (const [s, n] of sums[i].values()) {
      spend += s;
      newCustomers += n;
    }
    total.spend += spend;
    total.newCustomers += newCustomers;
    return {
      start: period.start,
      end: period.end,
      ...line(spend, newCustomers),
      ...(byChannel
        ? { byChannel: channels.map((channel) => ({ channel, ...line(sums[i].get(channel)?.[0] ?? 0, sums[i].get(channel)?.[1] ?? 0) })) }
        : {}),
    };
  });
  return { interval: params.interval, periods: rows, total: line(total.spend, total.newCustomers) };
}

export const cacReport: ReportDefinition = {
  name: 'cac',
  description:
    'Customer acquisition cost per period: spend (marketing + sales), new customers and spend per new customer; groupBy=channel splits both by channel',
  projections: [CAC_PROJECTION],
  groupBy: ['channel'],
  tables: {
    periods: (r: CacReport) => r.periods.map(({ byChannel: _, ...p }) => tableRow(p)),
    channels: (r: CacReport) => r.periods.flatMap((p) => (p.byChannel ?? []).map((c) => tableRow({ start: p.start, end: p.end }, c))),
    total: (r: CacReport) => [tableRow(r.total)],
  },
  run: (params, context) => buildCacReport(params, context),
};
