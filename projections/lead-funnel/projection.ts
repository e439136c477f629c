import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Lead cohorts per source, shared by the `conversion` and `lead-sources` reports (both read the
 * same counters, so one projection replays the lead events once). One document per month and
 * source with counters per day. A lead counts on the day of its capture: `qualified`,
 * `disqualified` and `converted` say what became of that day's leads (whenever it happened),
 * `convertMs` sums their capture-to-conversion times. Spend counts on the day it was recorded,
 * by its channel (its own or its campaign's, as SpendRecorded carries it).
 */
export const LEAD_FUNNEL_PROJECTION = 'lead-funnel';

/** Spend with no channel is kept under this source key (lead sources are never empty). */
export const UNATTRIBUTED = '';

export interface LeadFunnelCounters {
  captured: number;
  /** Leads captured with a campaign. */
  fromCampaign: number;
  qualified: number;
  disqualified: number;
  converted: number;
  /** Σ (convertedAt − capturedAt) in ms over the converted leads: integers, so sums are exact. */
  convertMs: number;
  spend: number;
}
export type LeadFunnelMonth = MonthDocument<LeadFunnelCounters> & { source: string };

/** An open lead: where it was counted. Deleted once it is converted or disqualified (both final). */
type LeadDoc = { _id: string; capturedAt: string; source: string };

const emptyDay = (): LeadFunnelCounters => ({
  captured: 0,
  fromCampaign: 0,
  qualified: 0,
  disqualified: 0,
  converted: 0,
  convertMs: 0,
  spend: 0,
});

function count(ctx: ProjectionContext, occurredAt: string, source: string, change: (c: LeadFunnelCounters) => void): Promise<void> {
  return countDay<LeadFunnelCounters>(
    ctx,
    'months',
    occurredAt,
    source,
    (month, _id) => ({ _id, month, source, days: {} }),
    emptyDay,
    change,
  );
}

export const leadFunnelProjection = defineProjection({
  name: LEAD_FUNNEL_PROJECTION,
  version: 1,
  collections: ['leads', 'months'],
  indexes: { months: ['month'] },
  on: {
    LeadCaptured(event, ctx) {
      const d = event.data;
      ctx.put<LeadDoc>('leads', { _id: d.leadId, capturedAt: event.occurredAt, source: d.source });
      const campaign = d.campaignId ? 1 : 0;
      return count(ctx, event.occurredAt, d.source, (c) => {
        c.captured += 1;
        c.fromCampaign += campaign;
      });
    },
    async LeadQualified(event, ctx) {
      const lead = await ctx.get<LeadDoc>('leads', event.data.leadId);
      if (lead) await count(ctx, lead.capturedAt, lead.source, (c) => void (c.qualified += 1));
    },
    async LeadDisqualified(event, ctx) {
      const leadId = event.data.leadId;
      const lead = await ctx.get<LeadDoc>('leads', leadId);
      if (!lead) return;
      ctx.delete('leads', leadId);
      return count(ctx, lead.capturedAt, lead.source, (c) => void (c.disqualified += 1));
    },
    async LeadConverted(event, ctx) {
      const leadId = event.data.leadId;
      const lead = await ctx.get<LeadDoc>('leads', leadId);
      if (!lead) return;
      ctx.delete('leads', leadId);
      const took = Date.parse(event.occurredAt) - Date.parse(lead.capturedAt);
      return count(ctx, lead.capturedAt, lead.source, (c) => {
        c.converted += 1;
        c.convertMs += took;
      });
    },
    SpendRecorded(event, ctx) {
      const d = event.data;
      return count(ctx, event.occurredAt, d.channel || UNATTRIBUTED, (c) => void (c.spend += d.amount));
    },
  },
});

/** The lead-funnel month documents overlapping [startMs, endMs). */
export async function readLeadFunnel(access: ReadModelAccess, startMs: number, endMs: number): Promise<LeadFunnelMonth[]> {
  return readMonths(await access.collection<LeadFunnelMonth>(LEAD_FUNNEL_PROJECTION, 'months'), startMs, endMs);
}
