import { InteractionTypes, LeadInteractionTypes } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { rate } from '../common/numbers';
import { periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { EngagementFigures, EngagementReport, EngagementSeries } from './query';

interface Tracked {
  owner?: string;
  close?: { at: number; ok: boolean; owner: string };
  /** Every interaction naming it, in feed order. */
  touches: { at: number; type: string }[];
}

interface Close {
  kind: 'deal' | 'lead';
  at: number;
  ok: boolean;
  owner: string;
  /** Its interactions dated at or before the close, by type. */
  touches: Map<string, number>;
}

/** The engagement report folded straight from the raw events, by the definition in docs/reports.md (test oracle). */
export function engagementReference(events: RecordedEvent[], params: Pick<ReportParams, 'from' | 'to' | 'interval'>): EngagementReport {
  const deals = new Map<string, Tracked>();
  const leads = new Map<string, Tracked>();
  const of = (map: Map<string, Tracked>, id: string): Tracked => {
    let r = map.get(id);
    if (!r) map.set(id, (r = { touches: [] }));
    return r;
  };
  for (const e of events) {
    const at = Date.parse(e.occurredAt);
    const d = e.data as { dealId?: string; leadId?: string; ownerId?: string; type?: string };
    switch (e.type) {
      case 'DealOpened':
      case 'DealOwnerAssigned': {
        // The current owner; a close takes the one it had then.
        of(deals, d.dealId!).owner = d.ownerId || undefined;
        break;
      }
      case 'LeadAssigned': {
        const lead = of(leads, d.leadId!);
        if (!lead.close) lead.owner = d.ownerId || undefined;
        break;
      }
      case 'DealWon':
      case 'DealLost': {
        const deal = of(deals, d.dealId!);
        deal.close ??= { at, ok: e.type === 'DealWon', owner: deal.owner ?? 'unassigned' };
        break;
      }
      // A deal counts by its last close: a reopen takes the close back; the next close counts.
      case 'DealReopened':
        of(deals, d.dealId!).close = undefined;
        break;
      case 'LeadConverted':
      case 'LeadDisqualified': {
        const lead = of(leads, d.leadId!);
        lead.close ??= { at, ok: e.type === 'LeadConverted', owner: lead.owner ?? 'unassigned' };
        break;
      }
      case 'InteractionLogged':
        if (d.dealId) of(deals, d.dealId).touches.push({ at, type: d.type! });
        break;
      case 'LeadInteractionLogged':
        of(leads, d.leadId!).touches.push({ at, type: d.type! });
        break;
    }
  }
  const closes: Close[] = [];
  for (const [kind, map] of [
    ['deal', deals],
    ['lead', leads],
  ] as const) {
    for (const r of map.values()) {
      if (!r.close) continue;
      const touches = new Map<string, number>();
      for (const t of r.touches) if (t.at <= r.close.at) touches.set(t.type, (touches.get(t.type) ?? 0) + 1);
      closes.push({ kind, ...r.close, touches });
    }
  }

  const list = periods(params.from, params.to, params.interval);
  const sum = (of: Close[], listed: readonly string[]) => {
    const out: Record<string, number> = {};
    for (const type of listed) out[type] = 0;
    const others = new Set<string>();
    for (const c of of) for (const type of c.touches.keys()) if (!listed.includes(type)) others.add(type);
    for (const type of [...others].sort()) out[type] = 0;
    for (const c of of) for (const [type, n] of c.touches) out[type] += n;
    out.all = of.reduce((s, c) => s + [...c.touches.values()].reduce((a, b) => a + b, 0), 0);
    return out;
  };
  const per = (totals: Record<string, number>, n: number) =>
    Object.fromEntries(Object.entries(totals).map(([type, v]) => [type, n === 0 ? null : rate(v / n)]));
  const figures = (within: Close[]): EngagementFigures => {
    const closedDeals = within.filter((c) => c.kind === 'deal');
    const won = closedDeals.filter((c) => c.ok);
    const closedLeads = within.filter((c) => c.kind === 'lead');
    const converted = closedLeads.filter((c) => c.ok);
    const dealInteractions = sum(closedDeals, InteractionTypes);
    const wonDealInteractions = sum(won, InteractionTypes);
    const leadInteractions = sum(closedLeads, LeadInteractionTypes);
    const convertedLeadInteractions = sum(converted, LeadInteractionTypes);
    return {
      deals: closedDeals.length,
      wonDeals: won.length,
      dealInteractions,
      perDeal: per(dealInteractions, closedDeals.length),
      wonDealInteractions,
      perWonDeal: per(wonDealInteractions, won.length),
      leads: closedLeads.length,
      convertedLeads: converted.length,
      leadInteractions,
      perLead: per(leadInteractions, closedLeads.length),
      convertedLeadInteractions,
      perConvertedLead: per(convertedLeadInteractions, converted.length),
    };
  };
  const between = (of: Close[], startMs: number, endMs: number) => of.filter((c) => c.at >= startMs && c.at < endMs);
  const inRange = list.length ? between(closes, list[0].startMs, list[list.length - 1].endMs) : [];
  const series = (of: Close[]): EngagementSeries => ({
    periods: list.map((p) => ({ start: p.start, end: p.end, ...figures(between(of, p.startMs, p.endMs)) })),
    total: figures(list.length ? between(of, list[0].startMs, list[list.length - 1].endMs) : []),
  });
  return {
    interval: params.interval,
    ...series(closes),
    owners: [...new Set(inRange.map((c) => c.owner))].sort().map((ownerId) => ({
      ownerId,
      ...series(closes.filter((c) => c.owner === ownerId)),
    })),
  };
}
