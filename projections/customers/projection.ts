import { erasedFields } from '@chronicle/domain';
import type { CustomerStatus } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { money } from '../common/numbers';
import { compositeKey, recountListed } from '../common/listing';

/**
 * Customer profile + lifecycle + totals, one document per customer (`customers`). The counts
 * that change most often and are neither filtered nor sorted on (interactions, open deals) live
 * in a separate tiny document per customer (`counters`, no indexes): interactions are most of
 * the history, and rewriting the indexed profile for each one would make replay slow.
 *
 * Merges (docs/merging.md): a merged customer's document stays (`mergedInto`, its own figures)
 * but leaves every list and count; a survivor's figures are its own (`own`, kept while it has
 * merged customers) plus its merged customers', derived again whenever either changes, so an
 * unmerge gives back exactly the figures it had.
 */
export const CUSTOMERS_PROJECTION = 'customers';

export type CustomerDocument = {
  _id: string;
  name: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  industry: string | null;
  region: string | null;
  attributes: Record<string, unknown> | null;
  /** Acquisition channel, fixed at registration. */
  source: string | null;
  ownerId: string | null;
  leadId: string | null;
  status: CustomerStatus;
  registeredAt: string | null;
  acquiredAt: string | null;
  /** Set while churned; cleared by a reactivation (as in the customer decider). */
  churnedAt: string | null;
  churnReason: string | null;
  reactivatedAt: string | null;
  purchaseCount: number;
  purchaseAmount: number;
  wonDealCount: number;
  wonDealAmount: number;
  /** purchaseAmount + wonDealAmount in cents; top-level so that `sort=-revenue` is served by an index. */
  revenue: number;
  /** Lower-cased name: `sort=name` is case-insensitive. */
  sortName: string;
  /** `<status>|<sortName>` (see compositeKey): "status X by name", the default sort, is one index range. */
  statusName: string;
  /** Lower-cased name, email and company, separated by a control character (`q` searches it). */
  search: string;
  /** Global position of the last change of `search`: the query side's search index syncs by it. */
  searchSeq: number;
  /** Tags set by rules (CustomerTagged), in the order they were set; `labels` serves the filter. */
  tags: string[];
  /** Campaigns the customer was enrolled in (CustomerEnrolled), in order; `labels` serves the filter. */
  campaigns: string[];
  /** Archived (issue 16): left out of `GET /customers` unless `?archived=true`; `archivedAt` is the business time. */
  archived: boolean;
  archivedAt: string | null;
  /** Merged (docs/merging.md): the survivor and the merge's business time; the document then leaves every list and count. */
  mergedInto: string | null;
  mergedAt: string | null;
  /** The customers merged into this one, in merge order: the figures above add theirs. */
  mergedIds: string[];
  /** While customers are merged into it, its own figures (the ones above are these plus theirs); null otherwise. */
  own: CustomerFigures | null;
};

/** The figures a merged customer adds to its survivor's (counters aside). */
export type CustomerFigures = Pick<
  CustomerDocument,
  'purchaseCount' | 'purchaseAmount' | 'wonDealCount' | 'wonDealAmount' | 'tags' | 'campaigns'
>;

/**
 * One document per customer and tag or campaign (`labels`), indexed by `label`: `?tag=` and
 * `?campaign=` find their customers by index, as `q` finds its own by the search index.
 */
export type CustomerLabelDocument = { _id: string; label: string; customerId: string };
export const labelOf = (kind: 'tag' | 'campaign', value: string): string => `${kind}|${value}`;

export type CounterFigures = {
  interactionCount: number;
  lastInteractionAt: string | null;
  openDealCount: number;
};

/** Merge fields are absent unless set: most counters are never merged, and this document is rewritten for every interaction. */
export type CustomerCountersDocument = CounterFigures & {
  _id: string;
  /** While merged: the survivor, whose counters add these. */
  mergedInto?: string;
  /** While customers are merged into it: its own counters (the ones above add theirs). */
  own?: CounterFigures;
};

/** Separates the fields of `search`; `q` may not contain control characters, so no match spans two fields. */
export const SEARCH_SEPARATOR = '\u001f';

export const searchText = (doc: Pick<CustomerDocument, 'name' | 'email' | 'company'>): string =>
  [doc.name, doc.email ?? '', doc.company ?? ''].join(SEARCH_SEPARATOR).toLowerCase();

const blank = (id: string): CustomerDocument => ({
  _id: id,
  name: '',
  email: null,
  phone: null,
  company: null,
  industry: null,
  region: null,
  attributes: null,
  source: null,
  ownerId: null,
  leadId: null,
  status: 'prospect',
  registeredAt: null,
  acquiredAt: null,
  churnedAt: null,
  churnReason: null,
  reactivatedAt: null,
  purchaseCount: 0,
  purchaseAmount: 0,
  wonDealCount: 0,
  wonDealAmount: 0,
  revenue: 0,
  sortName: '',
  statusName: '',
  search: '',
  searchSeq: 0,
  tags: [],
  campaigns: [],
  archived: false,
  archivedAt: null,
  mergedInto: null,
  mergedAt: null,
  mergedIds: [],
  own: null,
});

/** The composite field serving a status filter with the default sort. */
export const STATUS_SORT_FIELDS = { sortName: 'statusName' } as const;

/** Fields whose per-value counts `stats` keeps (see CountsDocument). */
export const COUNTED_FIELDS = ['status', 'ownerId', 'source', 'region', 'industry'] as const;

const PROFILE = ['name', 'email', 'phone', 'company', 'industry', 'region', 'attributes'] as const;

const later = (a: string | null, b: string): string => (a !== null && a > b ? a : b);

/** A merged customer is in no list and no count (docs/merging.md). */
const counted = (doc: CustomerDocument | undefined): CustomerDocument | null => (doc && doc.mergedInto === null ? doc : null);

const FIGURES = ['purchaseCount', 'purchaseAmount', 'wonDealCount', 'wonDealAmount', 'tags', 'campaigns'] as const;
const figuresOf = (doc: CustomerFigures): CustomerFigures => ({
  purchaseCount: doc.purchaseCount,
  purchaseAmount: doc.purchaseAmount,
  wonDealCount: doc.wonDealCount,
  wonDealAmount: doc.wonDealAmount,
  tags: doc.tags,
  campaigns: doc.campaigns,
});

const LABELS = [
  ['tag', 'tags'],
  ['campaign', 'campaigns'],
] as const;

/** `a`, then the values of `b` not in it. */
function union(a: string[], b: string[]): string[] {
  const extra = b.filter((v) => !a.includes(v));
  return extra.length === 0 ? a : [...a, ...extra];
}

/**
 * Applies `change` to the customer's document. Its figures are derived again if customers are
 * merged into it, and those of its survivor if it is merged and they changed (`seen` stops a
 * chain that a race of two merges could make for a moment, docs/merging.md).
 */
async function update(
  ctx: ProjectionContext,
  event: RecordedEvent,
  id: string,
  change: (doc: CustomerDocument) => void,
  seen?: Set<string>,
): Promise<void> {
  const current = await ctx.get<CustomerDocument>('customers', id);
  // A customer's events normally start with CustomerRegistered; should a deal or purchase ever
  // come first, its totals are kept and the profile filled in when the registration arrives.
  const doc = current ? { ...current, own: current.own && { ...current.own } } : blank(id);
  change(doc);
  if (doc.own) await combine(ctx, doc, doc.own);
  // In cents, as shown: sort=revenue then orders ties by id, never by a rounding residue (withdrawals leave some).
  doc.revenue = money(doc.purchaseAmount + doc.wonDealAmount);
  if (event.type === 'CustomerRegistered' || event.type === 'CustomerProfileUpdated' || event.type === 'CustomerPersonalDataErased') {
    doc.sortName = doc.name.toLowerCase();
    const search = searchText(doc);
    if (search !== doc.search) {
      doc.search = search;
      doc.searchSeq = event.globalPosition;
    }
  }
  doc.statusName = compositeKey(doc.status, doc.sortName);
  ctx.put('customers', doc);
  // `labels` follows the tags and campaigns shown: a survivor is found by its merged customers' too.
  for (const [kind, field] of LABELS) {
    const before = current?.[field] ?? [];
    if (doc[field] === before) continue;
    for (const value of doc[field])
      if (!before.includes(value))
        ctx.put<CustomerLabelDocument>('labels', { _id: `${labelOf(kind, value)}|${id}`, label: labelOf(kind, value), customerId: id });
    for (const value of before) if (!doc[field].includes(value)) ctx.delete('labels', `${labelOf(kind, value)}|${id}`);
  }
  await recountListed(ctx, 'stats', COUNTED_FIELDS, counted(current), counted(doc));
  const survivor = doc.mergedInto;
  if (survivor !== null && !seen?.has(survivor) && (!current || FIGURES.some((f) => doc[f] !== current[f])))
    await update(ctx, event, survivor, () => undefined, (seen ?? new Set()).add(id));
}

/** A survivor's figures: its own, plus its merged customers' (tags and campaigns: its own first). */
async function combine(ctx: ProjectionContext, doc: CustomerDocument, own: CustomerFigures): Promise<void> {
  Object.assign(doc, own);
  for (const mergedId of doc.mergedIds) {
    const merged = await ctx.get<CustomerDocument>('customers', mergedId);
    if (!merged) continue;
    doc.purchaseCount += merged.purchaseCount;
    doc.purchaseAmount += merged.purchaseAmount;
    doc.wonDealCount += merged.wonDealCount;
    doc.wonDealAmount += merged.wonDealAmount;
    doc.tags = union(doc.tags, merged.tags);
    doc.campaigns = union(doc.campaigns, merged.campaigns);
  }
}

/** Changes the customer's own figures (a survivor's `own`; the shown ones are derived from them). */
const figures = (ctx: ProjectionContext, event: RecordedEvent, id: string, change: (own: CustomerFigures) => void) =>
  update(ctx, event, id, (doc) => change(doc.own ?? doc));

/** Adds a tag or campaign to the customer (once); `update` adds it to `labels`. */
async function label(ctx: ProjectionContext, event: RecordedEvent, id: string, kind: 'tag' | 'campaign', value: string): Promise<void> {
  const field = kind === 'tag' ? 'tags' : 'campaigns';
  await figures(ctx, event, id, (own) => {
    if (!own[field].includes(value)) own[field] = [...own[field], value];
  });
}

const newCounters = (id: string): CustomerCountersDocument => ({ _id: id, interactionCount: 0, lastInteractionAt: null, openDealCount: 0 });

async function count(ctx: ProjectionContext, id: string, change: (counters: CounterFigures) => void): Promise<void> {
  const current = await ctx.get<CustomerCountersDocument>('counters', id);
  const counters = current ? { ...current } : newCounters(id);
  change(counters.own ? (counters.own = { ...counters.own }) : counters);
  ctx.put('counters', counters);
  // A survivor shows its own counts plus its merged customers'; a merged customer's count for its survivor too.
  if (counters.own) await combineCounters(ctx, id);
  else if (counters.mergedInto !== undefined) await combineCounters(ctx, counters.mergedInto, new Set([id]));
}

/**
 * Derives a customer's counters again: its own plus those of the customers merged into it (as its
 * customer document lists them), keeping its own in `own` while there are any. Then its
 * survivor's, should it be merged too for a moment (see `update`).
 */
async function combineCounters(ctx: ProjectionContext, id: string, seen = new Set<string>()): Promise<void> {
  const [current, customer] = await Promise.all([
    ctx.get<CustomerCountersDocument>('counters', id),
    ctx.get<CustomerDocument>('customers', id),
  ]);
  const counters = current ? { ...current } : newCounters(id);
  const own = counters.own ?? {
    interactionCount: counters.interactionCount,
    lastInteractionAt: counters.lastInteractionAt,
    openDealCount: counters.openDealCount,
  };
  const mergedIds = customer?.mergedIds ?? [];
  Object.assign(counters, own);
  if (mergedIds.length > 0) counters.own = own;
  else delete counters.own;
  for (const mergedId of mergedIds) {
    const merged = await ctx.get<CustomerCountersDocument>('counters', mergedId);
    if (!merged) continue;
    counters.interactionCount += merged.interactionCount;
    if (merged.lastInteractionAt !== null) counters.lastInteractionAt = later(counters.lastInteractionAt, merged.lastInteractionAt);
    counters.openDealCount += merged.openDealCount;
  }
  ctx.put('counters', counters);
  seen.add(id);
  if (counters.mergedInto !== undefined && !seen.has(counters.mergedInto)) await combineCounters(ctx, counters.mergedInto, seen);
}

/** Marks (or unmarks, `undefined`) a customer's counters as merged into `survivorId`. */
async function markMerged(ctx: ProjectionContext, id: string, survivorId: string | undefined): Promise<void> {
  const counters = { ...((await ctx.get<CustomerCountersDocument>('counters', id)) ?? newCounters(id)) };
  if (survivorId === undefined) delete counters.mergedInto;
  else counters.mergedInto = survivorId;
  ctx.put('counters', counters);
}

export const customersProjection = defineProjection({
  name: CUSTOMERS_PROJECTION,
  // 2: tags and campaigns (CustomerTagged, CustomerEnrolled), listed and filtered.
  // 3: archived customers (CustomerArchived, CustomerRestored), counted apart (`counts-archived`).
  // 4: reopened deals (DealReopened): open again, a reopened win out of the won totals; revenue in cents.
  //    Totals by pair of counted fields (a list filtered on two of them).
  // 5: merges (CustomerMerged, CustomerUnmerged): the merged customer out of lists and counts, its figures the survivor's.
  version: 5,
  collections: ['customers', 'counters', 'stats', 'labels'],
  indexes: {
    labels: ['label'],
    customers: [
      'status',
      'ownerId',
      'source',
      'region',
      'industry',
      'sortName',
      'registeredAt',
      'revenue',
      'archived',
      // Lists filter on `mergedInto: null`: a field the store cannot answer from an index would make it filter every list in memory.
      'mergedInto',
      ...Object.values(STATUS_SORT_FIELDS),
      'searchSeq',
    ],
  },
  scrubAfter: ['CustomerPersonalDataErased'],
  on: {
    CustomerRegistered(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.customerId, (doc) => {
        for (const field of PROFILE) doc[field] = (d[field] ?? null) as never;
        doc.source = d.source;
        doc.ownerId = d.ownerId ?? null;
        doc.leadId = d.leadId ?? null;
        doc.registeredAt = event.occurredAt;
      });
    },
    CustomerProfileUpdated(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.customerId, (doc) => {
        for (const field of PROFILE) if (d[field] !== undefined) doc[field] = d[field] as never;
      });
    },
    CustomerPersonalDataErased(event, ctx) {
      return update(ctx, event, event.data.customerId, (doc) => {
        Object.assign(doc, erasedFields({ name: doc.name, email: doc.email, phone: doc.phone }));
        doc.attributes = null;
      });
    },
    CustomerOwnerAssigned(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.customerId, (doc) => void (doc.ownerId = d.ownerId));
    },
    CustomerArchived(event, ctx) {
      return update(ctx, event, event.data.customerId, (doc) => {
        doc.archived = true;
        doc.archivedAt = event.occurredAt;
      });
    },
    CustomerRestored(event, ctx) {
      return update(ctx, event, event.data.customerId, (doc) => {
        doc.archived = false;
        doc.archivedAt = null;
      });
    },
    CustomerTagged: (event, ctx) => label(ctx, event, event.data.customerId, 'tag', event.data.tag),
    CustomerEnrolled: (event, ctx) => label(ctx, event, event.data.customerId, 'campaign', event.data.campaign),
    CustomerAcquired(event, ctx) {
      return update(ctx, event, event.data.customerId, (doc) => {
        if (doc.status !== 'churned') doc.status = 'active';
        doc.acquiredAt = event.occurredAt;
      });
    },
    CustomerChurned(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.customerId, (doc) => {
        doc.status = 'churned';
        doc.churnedAt = event.occurredAt;
        doc.churnReason = d.reason;
      });
    },
    CustomerReactivated(event, ctx) {
      return update(ctx, event, event.data.customerId, (doc) => {
        doc.status = 'active';
        doc.churnedAt = null;
        doc.churnReason = null;
        doc.reactivatedAt = event.occurredAt;
      });
    },
    PurchaseRecorded(event, ctx) {
      const d = event.data;
      return figures(ctx, event, d.customerId, (own) => {
        own.purchaseCount += 1;
        own.purchaseAmount += d.amount;
      });
    },
    InteractionLogged(event, ctx) {
      return count(ctx, event.data.customerId, (c) => {
        c.interactionCount += 1;
        c.lastInteractionAt = later(c.lastInteractionAt, event.occurredAt);
      });
    },
    DealOpened: (event, ctx) => count(ctx, event.data.customerId, (c) => void (c.openDealCount += 1)),
    async DealWon(event, ctx) {
      // DealWon carries the customer and the amount at closing: no deal lookup needed.
      const d = event.data;
      await count(ctx, d.customerId, (c) => void (c.openDealCount -= 1));
      return figures(ctx, event, d.customerId, (own) => {
        own.wonDealCount += 1;
        own.wonDealAmount += d.amount;
      });
    },
    DealLost: (event, ctx) => count(ctx, event.data.customerId, (c) => void (c.openDealCount -= 1)),
    async DealReopened(event, ctx) {
      // A deal counts by its last close: the win it undoes (its amount is the one won) leaves the won totals.
      const d = event.data;
      await count(ctx, d.customerId, (c) => void (c.openDealCount += 1));
      if (d.outcome !== 'won') return;
      return figures(ctx, event, d.customerId, (own) => {
        own.wonDealCount -= 1;
        own.wonDealAmount -= d.amount;
      });
    },
    async CustomerMerged(event, ctx) {
      const { customerId, mergedId, survivorId } = event.data;
      // Appended to both streams: the merged customer's copy does it all (the survivor's only tells its own stream).
      if (customerId !== mergedId) return;
      await update(ctx, event, mergedId, (doc) => {
        doc.mergedInto = survivorId;
        doc.mergedAt = event.occurredAt;
      });
      await update(ctx, event, survivorId, (doc) => {
        if (doc.mergedIds.includes(mergedId)) return;
        doc.own ??= figuresOf(doc);
        doc.mergedIds = [...doc.mergedIds, mergedId];
      });
      await markMerged(ctx, mergedId, survivorId);
      await combineCounters(ctx, survivorId);
    },
    async CustomerUnmerged(event, ctx) {
      const { customerId, mergedId, survivorId } = event.data;
      if (customerId !== mergedId) return;
      await update(ctx, event, mergedId, (doc) => {
        doc.mergedInto = null;
        doc.mergedAt = null;
      });
      await update(ctx, event, survivorId, (doc) => {
        doc.mergedIds = doc.mergedIds.filter((id) => id !== mergedId);
        // Its last merged customer gone, its figures are exactly its own again.
        if (doc.mergedIds.length === 0 && doc.own) {
          Object.assign(doc, doc.own);
          doc.own = null;
        }
      });
      await markMerged(ctx, mergedId, undefined);
      await combineCounters(ctx, survivorId);
    },
  },
});
