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
 *   "before" is the stream's own order. Also its whole revenue and its merges (below).
 *
 * Merges (docs/merging.md): a merged customer's new customer leaves its origin's campaign, and its
 * whole revenue (`customers.revenue`) moves from its origin's campaign to its survivor's origin's
 * (none when the survivor has no campaign origin), as if it had been the survivor's all along; so
 * does its revenue recorded while merged. The survivor remembers its merged customers, so that
 * their revenue follows its origin when that becomes known after the merge. The unmerge moves it
 * all back. An origin lead linked to, or an acquisition of, a merged customer counts from its unmerge.
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
   * The customer's whole revenue (purchases and won deals, a reopened win withdrawn), to move it
   * at a merge or unmerge. It counts for its origin's campaign (its survivor's while merged). While
   * that customer has neither an origin nor an acquisition (a won deal whose acquisition is still on
   * its way) it counts nowhere yet: it moves to the campaign should a campaign lead become the
   * origin, so that a campaign's revenue is its customers' whole revenue in every case.
   */
  revenue: number;
  /** The survivor it is merged into; null when it is not merged. */
  mergedInto: string | null;
  /** The customers merged into it: their revenue counts for its origin. */
  mergedIds: string[];
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

async function customer(ctx: ProjectionContext, customerId: string): Promise<CustomerDoc> {
  return (
    (await ctx.get<CustomerDoc>('customers', customerId)) ?? {
      _id: customerId,
      leadId: null,
      campaignId: null,
      capturedAt: null,
      acquired: false,
      revenue: 0,
      mergedInto: null,
      mergedIds: [],
    }
  );
}

/** Adds revenue to the campaign of `origin`'s origin lead, on that lead's capture day; nowhere without one. */
async function countRevenue(ctx: ProjectionContext, origin: CustomerDoc, amount: number): Promise<void> {
  if (origin.campaignId && amount !== 0) await count(ctx, origin.campaignId, origin.capturedAt!, (c) => void (c.revenue += amount));
}

/** Counts (sign 1) or withdraws (sign −1) the customer's new customer, when its origin lead had a campaign. */
async function countNewCustomer(ctx: ProjectionContext, doc: CustomerDoc, sign: 1 | -1): Promise<void> {
  if (doc.campaignId && doc.acquired) await count(ctx, doc.campaignId, doc.capturedAt!, (c) => void (c.newCustomers += sign));
}

async function attach(ctx: ProjectionContext, customerId: string, leadId: string): Promise<void> {
  const current = await customer(ctx, customerId);
  if (current.leadId !== null || current.acquired) return; // first touch, before acquisition only
  const lead = await ctx.get<LeadDoc>('leads', leadId);
  const doc: CustomerDoc = { ...current, leadId, campaignId: lead?.campaignId ?? null, capturedAt: lead?.capturedAt ?? null };
  ctx.put<CustomerDoc>('customers', doc);
  // Without an origin until now, the revenue that counts for it counted nowhere: its own (unless
  // it is merged: then it counts for its survivor's) and its merged customers'.
  let revenue = doc.mergedInto === null ? doc.revenue : 0;
  for (const id of doc.mergedIds) revenue += (await customer(ctx, id)).revenue;
  await countRevenue(ctx, doc, revenue);
}

async function earn(ctx: ProjectionContext, customerId: string, amount: number): Promise<void> {
  const doc = await customer(ctx, customerId);
  ctx.put<CustomerDoc>('customers', { ...doc, revenue: doc.revenue + amount });
  // A merged customer's revenue counts for its survivor's origin.
  await countRevenue(ctx, doc.mergedInto === null ? doc : await customer(ctx, doc.mergedInto), amount);
}

/**
 * A merge (`merged` true) or unmerge: the merged customer's new customer leaves (comes back to) its
 * origin's campaign, and its whole revenue moves from its origin's campaign to its survivor's (or
 * back). The merged customer's copy decides; the survivor's, or a repeated copy, changes nothing.
 */
async function merge(
  ctx: ProjectionContext,
  d: { customerId: string; mergedId: string; survivorId: string },
  merged: boolean,
): Promise<void> {
  if (d.customerId !== d.mergedId || d.mergedId === d.survivorId) return;
  const doc = await customer(ctx, d.mergedId);
  if ((doc.mergedInto !== null) === merged) return;
  // The unmerge undoes what the merge counted: from the survivor the merged customer records.
  const survivorId = merged ? d.survivorId : doc.mergedInto!;
  const survivor = await customer(ctx, survivorId);
  ctx.put<CustomerDoc>('customers', { ...doc, mergedInto: merged ? survivorId : null });
  const others = survivor.mergedIds.filter((id) => id !== d.mergedId);
  ctx.put<CustomerDoc>('customers', { ...survivor, mergedIds: merged ? [...others, d.mergedId] : others });
  const [from, to] = merged ? [doc, survivor] : [survivor, doc];
  await countRevenue(ctx, from, -doc.revenue);
  await countRevenue(ctx, to, doc.revenue);
  await countNewCustomer(ctx, doc, merged ? -1 : 1);
}

export const campaignsProjection = defineProjection({
  name: CAMPAIGNS_PROJECTION,
  // 2: reopened deals (DealReopened) withdraw the win they undo.
  // 3: merges (CustomerMerged, CustomerUnmerged) move a merged customer's revenue to its survivor's campaign.
  version: 3,
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
      const doc = await customer(ctx, event.data.customerId);
      if (doc.acquired) return;
      // Acquired: its origin is settled (a later lead does not make it new); without one, its revenue counts nowhere.
      const acquired: CustomerDoc = { ...doc, acquired: true };
      ctx.put<CustomerDoc>('customers', acquired);
      // A merged customer's new customer counts from its unmerge.
      if (doc.mergedInto === null) await countNewCustomer(ctx, acquired, 1);
    },
    PurchaseRecorded: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount),
    DealWon: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount),
    // A deal counts by its last close. The customer's origin never changes once set, so the win
    // leaves where its revenue counts now: its (or its survivor's) campaign's cohort day, or nowhere yet.
    DealReopened({ data: d }, ctx) {
      if (d.outcome === 'won') return earn(ctx, d.customerId, -d.amount);
    },
    CustomerMerged: ({ data: d }, ctx) => merge(ctx, d, true),
    CustomerUnmerged: ({ data: d }, ctx) => merge(ctx, d, false),
  },
});
