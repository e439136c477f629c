import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument } from '../common/buckets';
import { defineProjection } from '../common/define-projection';

/**
 * Campaigns and what they brought (docs/reports.md "campaigns", docs/read-models.md):
 *
 * - `campaigns`: one document per campaign, its launch data and lifetime counters (the list).
 * - `months`: one document per UTC month and campaign with counters per day (the report). A lead
 *   counts on the day of its capture, and so does everything that came of it (its conversion, the
 *   customer it became, that customer's revenue), whenever it happened: a cohort, as in
 *   lead-sources. Spend counts on the day it was recorded. Spend without a campaign is kept under
 *   the key `''` (campaign ids are never empty), so the report can add up with `cac`.
 * - `leads`: lead → campaign and capture time, for the leads captured with a campaign only.
 * - `customers`: customer → the lead it came from (its origin) and that lead's campaign. The origin
 *   is the first lead converted into the customer (the one it was registered from, else the first
 *   CustomerLeadLinked) before its CustomerAcquired: a lead converted into a customer acquired
 *   already did not bring a new customer. Both kinds of event are on the customer's stream, so
 *   "before" is the stream's own order.
 *
 * Every read is by `_id` (projection side) or a range on an indexed field (query side).
 */
export const CAMPAIGNS_PROJECTION = 'campaigns';

/** The `months` key of spend recorded without a campaign. */
export const NO_CAMPAIGN = '';

// A type, not an interface: documents must be assignable to Record<string, unknown>.
export type CampaignCounters = {
  /** Leads captured with the campaign. */
  leads: number;
  /** Of those, converted (into a new or an existing customer). */
  convertedLeads: number;
  /** Customers whose origin is one of those leads, acquired. */
  newCustomers: number;
  /** Σ won deals + purchases of those customers (all of it, whenever recorded; a reopened win withdrawn). */
  revenue: number;
  /** Σ SpendRecorded naming the campaign. */
  spend: number;
};

export type CampaignDocument = CampaignCounters & {
  _id: string;
  /** Null only while a lead or spend names a campaign whose launch is not projected (never, through the commands). */
  name: string | null;
  channel: string | null;
  budget: number | null;
  launchedAt: string | null;
  /** Lower-cased name: `sort=name` is case-insensitive. */
  sortName: string;
};

export type CampaignMonth = MonthDocument<CampaignCounters> & { campaignId: string };

type LeadDoc = { _id: string; campaignId: string; capturedAt: string; converted: boolean };

type CustomerDoc = {
  _id: string;
  /** The origin lead (any lead, with a campaign or not); null while there is none. */
  leadId: string | null;
  /** The origin lead's campaign and capture time, when it had a campaign. */
  campaignId: string | null;
  capturedAt: string | null;
  acquired: boolean;
  /**
   * Revenue recorded while the customer had neither an origin nor an acquisition (a won deal
   * whose acquisition is still on its way): moved to the campaign should a campaign lead become
   * its origin, so that revenue is the customer's whole revenue in every case.
   */
  pending: number;
};

export const zeroCampaignCounters = (): CampaignCounters => ({ leads: 0, convertedLeads: 0, newCustomers: 0, revenue: 0, spend: 0 });

/** Stored business times as `toISOString` gives them, so that string ranges and sorts are time order. */
const iso = (at: string): string => new Date(Date.parse(at)).toISOString();

const blank = (id: string): CampaignDocument => ({
  _id: id,
  name: null,
  channel: null,
  budget: null,
  launchedAt: null,
  sortName: '',
  ...zeroCampaignCounters(),
});

/** Adds to a campaign's lifetime counters and to its day's (the day of `at`). */
async function count(ctx: ProjectionContext, campaignId: string, at: string, change: (c: CampaignCounters) => void): Promise<void> {
  if (campaignId !== NO_CAMPAIGN) {
    const doc = { ...((await ctx.get<CampaignDocument>('campaigns', campaignId)) ?? blank(campaignId)) };
    change(doc);
    ctx.put('campaigns', doc);
  }
  await countDay<CampaignCounters>(
    ctx,
    'months',
    at,
    campaignId,
    (month, _id) => ({ _id, month, campaignId, days: {} }),
    zeroCampaignCounters,
    change,
  );
}

async function attach(ctx: ProjectionContext, customerId: string, leadId: string): Promise<void> {
  const current = await ctx.get<CustomerDoc>('customers', customerId);
  if (current && (current.leadId !== null || current.acquired)) return; // first touch, before acquisition only
  const lead = await ctx.get<LeadDoc>('leads', leadId);
  const pending = current?.pending ?? 0;
  ctx.put<CustomerDoc>('customers', {
    _id: customerId,
    leadId,
    campaignId: lead?.campaignId ?? null,
    capturedAt: lead?.capturedAt ?? null,
    acquired: false,
    pending: 0,
  });
  if (lead && pending !== 0) await count(ctx, lead.campaignId, lead.capturedAt, (c) => void (c.revenue += pending));
}

async function earn(ctx: ProjectionContext, customerId: string, amount: number): Promise<void> {
  const doc = await ctx.get<CustomerDoc>('customers', customerId);
  if (doc?.campaignId) return count(ctx, doc.campaignId, doc.capturedAt!, (c) => void (c.revenue += amount));
  // Only a customer that may still get an origin keeps its revenue aside.
  if (doc && (doc.leadId !== null || doc.acquired)) return;
  const base: CustomerDoc = doc ?? { _id: customerId, leadId: null, campaignId: null, capturedAt: null, acquired: false, pending: 0 };
  ctx.put<CustomerDoc>('customers', { ...base, pending: base.pending + amount });
}

export const campaignsProjection = defineProjection({
  name: CAMPAIGNS_PROJECTION,
  // 2: reopened deals (DealReopened) withdraw the win they undo.
  version: 2,
  collections: ['campaigns', 'months', 'leads', 'customers'],
  indexes: { campaigns: ['channel', 'launchedAt', 'sortName'], months: ['month'] },
  on: {
    async CampaignLaunched(event, ctx) {
      const d = event.data;
      const doc = (await ctx.get<CampaignDocument>('campaigns', d.campaignId)) ?? blank(d.campaignId);
      ctx.put<CampaignDocument>('campaigns', {
        ...doc,
        name: d.name,
        channel: d.channel,
        budget: d.budget ?? null,
        launchedAt: iso(event.occurredAt),
        sortName: d.name.toLowerCase(),
      });
    },
    SpendRecorded(event, ctx) {
      const d = event.data;
      return count(ctx, d.campaignId || NO_CAMPAIGN, event.occurredAt, (c) => void (c.spend += d.amount));
    },
    LeadCaptured(event, ctx) {
      const d = event.data;
      if (!d.campaignId) return;
      const capturedAt = iso(event.occurredAt);
      ctx.put<LeadDoc>('leads', { _id: d.leadId, campaignId: d.campaignId, capturedAt, converted: false });
      return count(ctx, d.campaignId, capturedAt, (c) => void (c.leads += 1));
    },
    async LeadConverted(event, ctx) {
      const lead = await ctx.get<LeadDoc>('leads', event.data.leadId);
      if (!lead || lead.converted) return;
      ctx.put<LeadDoc>('leads', { ...lead, converted: true });
      await count(ctx, lead.campaignId, lead.capturedAt, (c) => void (c.convertedLeads += 1));
    },
    CustomerRegistered(event, ctx) {
      const d = event.data;
      if (d.leadId) return attach(ctx, d.customerId, d.leadId);
    },
    CustomerLeadLinked: ({ data: d }, ctx) => attach(ctx, d.customerId, d.leadId),
    async CustomerAcquired(event, ctx) {
      const customerId = event.data.customerId;
      const doc = await ctx.get<CustomerDoc>('customers', customerId);
      if (doc?.acquired) return;
      // Acquired: its origin is settled (a later lead does not make it new), the pending revenue no longer needed.
      const base: CustomerDoc = doc ?? { _id: customerId, leadId: null, campaignId: null, capturedAt: null, acquired: false, pending: 0 };
      ctx.put<CustomerDoc>('customers', { ...base, acquired: true, pending: 0 });
      if (base.campaignId) await count(ctx, base.campaignId, base.capturedAt!, (c) => void (c.newCustomers += 1));
    },
    PurchaseRecorded: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount),
    DealWon: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount),
    // A deal counts by its last close. The customer's origin never changes once set, so the win
    // leaves where earn put it: its campaign's cohort day, or the pending revenue (if still there).
    DealReopened({ data: d }, ctx) {
      if (d.outcome === 'won') return earn(ctx, d.customerId, -d.amount);
    },
  },
});
