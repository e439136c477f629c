import type { RecordedEvent } from '@chronicle/event-store';
import { dayWindow } from '../common/buckets';
import { money, rate } from '../common/numbers';
import type { ReportParams } from '../common/report';
import type { CampaignCounters } from './projection';
import type { CampaignFigures, CampaignView } from './query';
import type { CampaignRow, CampaignsReport } from './report';

interface Campaign {
  name: string;
  channel: string;
  budget: number | null;
  launchedAt: string;
}
interface Lead {
  campaignId: string;
  capturedMs: number;
  converted: boolean;
}
interface Customer {
  /** The first lead converted into it before its acquisition. */
  origin?: string;
  acquired: boolean;
  revenue: number;
}
interface Spend {
  campaignId?: string;
  at: number;
  amount: number;
}

/** Everything the definitions of docs/reports.md "campaigns" need, folded from the raw events. */
function fold(events: RecordedEvent[]) {
  const campaigns = new Map<string, Campaign>();
  const leads = new Map<string, Lead>();
  const customers = new Map<string, Customer>();
  const spends: Spend[] = [];
  const customer = (id: string) => customers.get(id) ?? customers.set(id, { acquired: false, revenue: 0 }).get(id)!;
  const link = (customerId: string, leadId: string) => {
    const c = customer(customerId);
    if (c.origin === undefined && !c.acquired) c.origin = leadId;
  };
  // A deal counts by its last close: a win followed by a DealReopened of its deal does not count.
  const lastReopen = new Map<string, number>();
  for (const e of events) if (e.type === 'DealReopened') lastReopen.set((e.data as { dealId: string }).dealId, e.globalPosition);
  for (const e of events) {
    const d = e.data as Record<string, unknown> & { customerId: string; leadId: string; campaignId?: string; amount: number };
    switch (e.type) {
      case 'CampaignLaunched':
        campaigns.set(d.campaignId!, {
          name: d.name as string,
          channel: d.channel as string,
          budget: (d.budget as number | undefined) ?? null,
          launchedAt: new Date(e.occurredAt).toISOString(),
        });
        break;
      case 'SpendRecorded':
        spends.push({ campaignId: d.campaignId || undefined, at: Date.parse(e.occurredAt), amount: d.amount });
        break;
      case 'LeadCaptured':
        if (d.campaignId) leads.set(d.leadId, { campaignId: d.campaignId, capturedMs: Date.parse(e.occurredAt), converted: false });
        break;
      case 'LeadConverted':
        if (leads.has(d.leadId)) leads.get(d.leadId)!.converted = true;
        break;
      case 'CustomerRegistered':
        if (d.leadId) link(d.customerId, d.leadId);
        break;
      case 'CustomerLeadLinked':
        link(d.customerId, d.leadId);
        break;
      case 'CustomerAcquired':
        customer(d.customerId).acquired = true;
        break;
      case 'DealWon':
        if ((lastReopen.get(d.dealId as string) ?? -1) < e.globalPosition) customer(d.customerId).revenue += d.amount;
        break;
      case 'PurchaseRecorded':
        customer(d.customerId).revenue += d.amount;
        break;
    }
  }
  return { campaigns, leads, customers, spends };
}

const figures = (c: CampaignCounters): CampaignFigures => ({
  leads: c.leads,
  convertedLeads: c.convertedLeads,
  newCustomers: c.newCustomers,
  revenue: money(c.revenue),
  spend: money(c.spend),
  costPerLead: c.leads === 0 ? null : money(c.spend / c.leads),
  cac: c.newCustomers === 0 ? null : money(c.spend / c.newCustomers),
  roi: c.spend === 0 ? null : rate((c.revenue - c.spend) / c.spend),
});

/** A campaign's counters over the leads captured and the spend recorded in [startMs, endMs). */
function counters(f: ReturnType<typeof fold>, campaignId: string, startMs: number, endMs: number): CampaignCounters {
  const inWindow = (ms: number) => ms >= startMs && ms < endMs;
  const cohort = new Set([...f.leads].filter(([, l]) => l.campaignId === campaignId && inWindow(l.capturedMs)).map(([id]) => id));
  const theirCustomers = [...f.customers.values()].filter((c) => c.origin !== undefined && cohort.has(c.origin));
  return {
    leads: cohort.size,
    convertedLeads: [...cohort].filter((id) => f.leads.get(id)!.converted).length,
    newCustomers: theirCustomers.filter((c) => c.acquired).length,
    revenue: theirCustomers.reduce((a, c) => a + c.revenue, 0),
    spend: f.spends.filter((s) => s.campaignId === campaignId && inWindow(s.at)).reduce((a, s) => a + s.amount, 0),
  };
}

/** The campaigns report folded straight from the raw events (test oracle). */
export function campaignsReference(events: RecordedEvent[], params: ReportParams): CampaignsReport {
  const { startMs, endMs, from, to } = dayWindow(params);
  const f = fold(events);
  const inWindow = (ms: number) => ms >= startMs && ms < endMs;
  const ids = new Set([
    ...[...f.campaigns].filter(([, c]) => inWindow(Date.parse(c.launchedAt))).map(([id]) => id),
    ...[...f.leads.values()].filter((l) => inWindow(l.capturedMs)).map((l) => l.campaignId),
    ...f.spends.flatMap((s) => (s.campaignId && inWindow(s.at) ? [s.campaignId] : [])),
  ]);
  const total: CampaignCounters = { leads: 0, convertedLeads: 0, newCustomers: 0, revenue: 0, spend: 0 };
  const rows: CampaignRow[] = [...ids].map((campaignId) => {
    const c = counters(f, campaignId, startMs, endMs);
    for (const k of Object.keys(total) as (keyof CampaignCounters)[]) total[k] += c[k];
    const campaign = f.campaigns.get(campaignId);
    return {
      campaignId,
      name: campaign?.name ?? null,
      channel: campaign?.channel ?? null,
      budget: campaign?.budget ?? null,
      launchedAt: campaign?.launchedAt ?? null,
      ...figures(c),
    };
  });
  rows.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : a.campaignId < b.campaignId ? -1 : 1));
  const unattributed = f.spends.filter((s) => !s.campaignId && inWindow(s.at)).reduce((a, s) => a + s.amount, 0);
  return { from, to, campaigns: rows, totals: { ...figures(total), unattributedSpend: money(unattributed) } };
}

/** Every campaign with its lifetime figures (the items of `GET /campaigns` before sorting and paging). */
export function campaignsListReference(events: RecordedEvent[]): CampaignView[] {
  const f = fold(events);
  return [...f.campaigns].map(([id, c]) => ({ id, ...c, ...figures(counters(f, id, -Infinity, Infinity)) }));
}
