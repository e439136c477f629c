import { ERASED } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { money } from '../common/numbers';

/**
 * Lifetime revenue per customer = amounts of its won deals + its purchases (`customers`), and the
 * running totals over acquired customers (`totals`, one document). A customer is acquired once it
 * has a won deal or a purchase (as CustomerAcquired says); `rank` (its revenue) is set only then,
 * so "top N" is one descending range of the `rank` index, never a scan of all customers.
 */
export const CUSTOMER_VALUE_PROJECTION = 'customer-value';
export const TOTALS_ID = 'totals';

type Figures = {
  revenue: number;
  wonDeals: number;
  wonRevenue: number;
  purchases: number;
  purchaseRevenue: number;
};
export type CustomerValueDocument = Figures & {
  _id: string;
  name: string | null;
  /**
   * = revenue in cents once acquired; absent before. In cents, as shown, so that ties go by id, never
   * by a rounding residue (withdrawn wins leave some), and a residue below 0 never drops a customer.
   * Absent on a merged customer: it leaves the ranking (docs/merging.md).
   */
  rank?: number;
  /** Merged into this survivor: the figures stay its own (an unmerge restores them), out of the ranking and the totals. */
  mergedInto?: string;
  /** A merged customer's acquisition (its rank, which says it otherwise, is gone): its survivor's, and its own again on unmerge. */
  acquired?: boolean;
  /**
   * A survivor's merged customers and its own figures and acquisition, while it has merged customers:
   * its figures are then its own plus theirs, recomputed from these on unmerge so it returns exactly.
   */
  merged?: string[];
  own?: Figures & { acquired: boolean };
};
export type CustomerValueTotals = { _id: string; customers: number; revenue: number };

const blank = (id: string, name: string | null): CustomerValueDocument => ({
  _id: id,
  name,
  revenue: 0,
  wonDeals: 0,
  wonRevenue: 0,
  purchases: 0,
  purchaseRevenue: 0,
});

const FIGURES = ['revenue', 'wonDeals', 'wonRevenue', 'purchases', 'purchaseRevenue'] as const;
const figuresOf = (doc: Figures): Figures => ({
  revenue: doc.revenue,
  wonDeals: doc.wonDeals,
  wonRevenue: doc.wonRevenue,
  purchases: doc.purchases,
  purchaseRevenue: doc.purchaseRevenue,
});
const addFigures = (to: Figures, from: Figures) => FIGURES.forEach((f) => (to[f] += from[f]));

/** Counts (sign 1) or withdraws (-1) a won deal's or a purchase's amount in some figures. */
function count(f: Figures, amount: number, kind: 'deal' | 'purchase', sign: 1 | -1): void {
  f.revenue += sign * amount;
  if (kind === 'deal') {
    f.wonDeals += sign;
    f.wonRevenue += sign * amount;
  } else {
    f.purchases += sign;
    f.purchaseRevenue += sign * amount;
  }
}

/** Ranks the customer (acquired) or takes it out of the ranking, keeping the count of acquired customers. */
function rank(doc: CustomerValueDocument, acquired: boolean, totals: CustomerValueTotals): void {
  if (acquired !== (doc.rank !== undefined)) totals.customers += acquired ? 1 : -1;
  if (acquired) doc.rank = money(doc.revenue);
  else delete doc.rank;
}

const totalsOf = async (ctx: ProjectionContext) =>
  (await ctx.get<CustomerValueTotals>('totals', TOTALS_ID)) ?? { _id: TOTALS_ID, customers: 0, revenue: 0 };

/**
 * Counts (sign 1) or withdraws (-1) an amount of the customer's: in its own figures, and in what the
 * report shows for it: its survivor's figures if it is merged (its deals can still close, docs/merging.md),
 * its own and a survivor's own (`own`) otherwise. Counting acquires.
 */
async function apply(ctx: ProjectionContext, doc: CustomerValueDocument, amount: number, kind: 'deal' | 'purchase', sign: 1 | -1) {
  const totals = await totalsOf(ctx);
  totals.revenue += sign * amount;
  count(doc, amount, kind, sign);
  let shown = doc;
  if (doc.mergedInto !== undefined) {
    if (sign === 1) doc.acquired = true;
    ctx.put('customers', doc);
    shown = (await ctx.get<CustomerValueDocument>('customers', doc.mergedInto)) ?? blank(doc.mergedInto, null);
    count(shown, amount, kind, sign);
  } else if (doc.own) {
    count(doc.own, amount, kind, sign);
    if (sign === 1) doc.own.acquired = true;
  }
  rank(shown, sign === 1 || shown.rank !== undefined, totals);
  ctx.put('customers', shown);
  ctx.put('totals', totals);
}

async function earn(ctx: ProjectionContext, customerId: string, amount: number, kind: 'deal' | 'purchase'): Promise<void> {
  const doc = (await ctx.get<CustomerValueDocument>('customers', customerId)) ?? blank(customerId, null);
  return apply(ctx, doc, amount, kind, 1);
}

/**
 * A reopened win (DealReopened) leaves the customer's revenue and the totals: a deal counts by its
 * last close. The customer stays acquired (its acquisition stands), so it keeps its rank.
 */
async function withdrawWin(ctx: ProjectionContext, customerId: string, amount: number): Promise<void> {
  const doc = await ctx.get<CustomerValueDocument>('customers', customerId);
  // A survivor's own wins, not its merged customers' (whose deals withdraw under their own ids).
  if (!doc || (doc.own ?? doc).wonDeals === 0) return; // no win counted to withdraw (never, through the commands)
  return apply(ctx, doc, amount, 'deal', -1);
}

/**
 * Merged (the merged customer's copy): it leaves the ranking and the count of customers, keeping its
 * own figures for an unmerge; the survivor's figures add them, and it is acquired if either was.
 */
async function merge(ctx: ProjectionContext, mergedId: string, survivorId: string): Promise<void> {
  const merged = (await ctx.get<CustomerValueDocument>('customers', mergedId)) ?? blank(mergedId, null);
  if (merged.mergedInto !== undefined) return; // merged already (never, through the commands)
  const survivor = (await ctx.get<CustomerValueDocument>('customers', survivorId)) ?? blank(survivorId, null);
  const totals = await totalsOf(ctx);
  merged.mergedInto = survivorId;
  merged.acquired = merged.rank !== undefined;
  rank(merged, false, totals);
  survivor.own ??= { ...figuresOf(survivor), acquired: survivor.rank !== undefined };
  survivor.merged = [...(survivor.merged ?? []), mergedId];
  addFigures(survivor, merged);
  rank(survivor, merged.acquired || survivor.rank !== undefined, totals);
  ctx.put('customers', merged);
  ctx.put('customers', survivor);
  ctx.put('totals', totals);
}

/**
 * Unmerged: the merged customer is ranked and counted again with its own figures (including what it
 * earned while merged); the survivor's are recomputed from its own and its other merged customers',
 * not subtracted, so that they return exactly (no rounding residue).
 */
async function unmerge(ctx: ProjectionContext, mergedId: string, survivorId: string): Promise<void> {
  const merged = await ctx.get<CustomerValueDocument>('customers', mergedId);
  if (merged?.mergedInto !== survivorId) return; // not merged there (never, through the commands)
  const survivor = (await ctx.get<CustomerValueDocument>('customers', survivorId)) ?? blank(survivorId, null);
  const totals = await totalsOf(ctx);
  const acquired = merged.acquired === true;
  delete merged.mergedInto;
  delete merged.acquired;
  rank(merged, acquired, totals);
  const rest = (survivor.merged ?? []).filter((id) => id !== mergedId);
  const others = (await Promise.all(rest.map((id) => ctx.get<CustomerValueDocument>('customers', id)))).filter((o) => o !== undefined);
  const own = survivor.own ?? { ...figuresOf(survivor), acquired: survivor.rank !== undefined };
  Object.assign(survivor, figuresOf(own));
  for (const other of others) addFigures(survivor, other);
  if (rest.length > 0) survivor.merged = rest;
  else {
    delete survivor.merged;
    delete survivor.own;
  }
  rank(survivor, own.acquired || others.some((o) => o.acquired), totals);
  ctx.put('customers', merged);
  ctx.put('customers', survivor);
  ctx.put('totals', totals);
}

export const customerValueProjection = defineProjection({
  name: CUSTOMER_VALUE_PROJECTION,
  // 2: reopened deals (DealReopened) withdraw the win they undo; rank in cents.
  // 3: merges (CustomerMerged, CustomerUnmerged): a merged customer's revenue counts for its survivor.
  version: 3,
  collections: ['customers', 'totals'],
  indexes: { customers: ['rank'] },
  scrubAfter: ['CustomerPersonalDataErased'],
  on: {
    async CustomerRegistered({ data: d }, ctx) {
      const doc = (await ctx.get<CustomerValueDocument>('customers', d.customerId)) ?? blank(d.customerId, null);
      ctx.put('customers', { ...doc, name: d.name });
    },
    async CustomerProfileUpdated({ data: d }, ctx) {
      if (d.name === undefined) return;
      const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
      if (doc) ctx.put('customers', { ...doc, name: d.name });
    },
    async CustomerPersonalDataErased({ data: d }, ctx) {
      const doc = await ctx.get<CustomerValueDocument>('customers', d.customerId);
      if (doc?.name) ctx.put('customers', { ...doc, name: ERASED });
    },
    PurchaseRecorded: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount, 'purchase'),
    DealWon: ({ data: d }, ctx) => earn(ctx, d.customerId, d.amount, 'deal'),
    DealReopened({ data: d }, ctx) {
      if (d.outcome === 'won') return withdrawWin(ctx, d.customerId, d.amount);
    },
    // The merged customer's copy carries the decision; the survivor's copy changes nothing here.
    CustomerMerged: ({ data: d }, ctx) => (d.customerId === d.mergedId ? merge(ctx, d.mergedId, d.survivorId) : undefined),
    CustomerUnmerged: ({ data: d }, ctx) => (d.customerId === d.mergedId ? unmerge(ctx, d.mergedId, d.survivorId) : undefined),
  },
});
