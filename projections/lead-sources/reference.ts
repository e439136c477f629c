import type { RecordedEvent } from '@chronicle/event-store';
import { dayWindow } from '../common/buckets';
import { money, rate, ratio } from '../common/numbers';
import type { ReportParams } from '../common/report';
import type { LeadSourceRow, LeadSourcesReport } from './query';

interface Lead {
  capturedMs: number;
  source: string;
  campaign: boolean;
  status: 'new' | 'qualified' | 'disqualified' | 'converted';
  qualified: boolean;
}

/** The lead-sources report folded straight from the raw events (test oracle). */
export function leadSourcesReference(events: RecordedEvent[], params: ReportParams): LeadSourcesReport {
  const { startMs, endMs, from, to } = dayWindow(params);
  const inWindow = (iso: string) => Date.parse(iso) >= startMs && Date.parse(iso) < endMs;
  const leads = new Map<string, Lead>();
  const spend = new Map<string, number>();
  let unattributed = 0;
  for (const e of events) {
    const d = e.data as { leadId: string; source: string; campaignId?: string; channel: string | null; amount: number };
    switch (e.type) {
      case 'LeadCaptured':
        leads.set(d.leadId, {
          capturedMs: Date.parse(e.occurredAt),
          source: d.source,
          campaign: !!d.campaignId,
          status: 'new',
          qualified: false,
        });
        break;
      case 'LeadQualified':
        Object.assign(leads.get(d.leadId)!, { status: 'qualified', qualified: true });
        break;
      case 'LeadDisqualified':
        leads.get(d.leadId)!.status = 'disqualified';
        break;
      case 'LeadConverted':
        leads.get(d.leadId)!.status = 'converted';
        break;
      case 'SpendRecorded':
        if (!inWindow(e.occurredAt)) break;
        if (d.channel) spend.set(d.channel, (spend.get(d.channel) ?? 0) + d.amount);
        else unattributed += d.amount;
        break;
    }
  }
  const cohort = [...leads.values()].filter((l) => l.capturedMs >= startMs && l.capturedMs < endMs);
  const row = (source: string | undefined) => {
    const ls = source === undefined ? cohort : cohort.filter((l) => l.source === source);
    const captured = ls.length;
    const disqualified = ls.filter((l) => l.status === 'disqualified').length;
    const converted = ls.filter((l) => l.status === 'converted').length;
    const spent = source === undefined ? [...spend.values()].reduce((a, b) => a + b, unattributed) : (spend.get(source) ?? 0);
    return {
      captured,
      fromCampaign: ls.filter((l) => l.campaign).length,
      qualified: ls.filter((l) => l.qualified).length,
      disqualified,
      converted,
      open: captured - disqualified - converted,
      spend: money(spent),
      conversionRate: rate(ratio(converted, captured)),
      costPerLead: captured === 0 ? null : money(spent / captured),
    };
  };
  const sources = [...new Set([...cohort.map((l) => l.source), ...spend.keys()])];
  const rows: LeadSourceRow[] = sources.map((source) => ({ source, ...row(source) }));
  rows.sort((a, b) => b.captured - a.captured || (a.source < b.source ? -1 : 1));
  return { from, to, sources: rows, totals: { ...row(undefined), unattributedSpend: money(unattributed) } };
}
