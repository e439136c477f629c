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
};

/**
 * One document per customer and tag or campaign (`labels`), indexed by `label`: `?tag=` and
 * `?campaign=` find their customers by index, as `q` finds its own by the search index.
 */
export type CustomerLabelDocument = { _id: string; label: string; customerId: string };
export const labelOf = (kind: 'tag' | 'campaign', value: string): string => `${kind}|${value}`;

export type CustomerCountersDocument = {
  _id: string;
  interactionCount: number;
  lastInteractionAt: string | null;
  openDealCount: number;
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
});

/** The composite field serving a status filter with the default sort. */
export const STATUS_SORT_FIELDS = { sortName: 'statusName' } as const;

/** Fields whose per-value counts `stats` keeps (see CountsDocument). */
export const COUNTED_FIELDS = ['status', 'ownerId', 'source', 'region', 'industry'] as const;

const PROFILE = ['name', 'email', 'phone', 'company', 'industry', 'region', 'attributes'] as const;

const later = (a: string | null, b: string): string => (a !== null && a > b ? a : b);

async function update(ctx: ProjectionContext, event: RecordedEvent, id: string, change: (doc: CustomerDocument) => void): Promise<void> {
  const current = await ctx.get<CustomerDocument>('customers', id);
  // A customer's events normally start with CustomerRegistered; should a deal or purchase ever
  // come first, its totals are kept and the profile filled in when the registration arrives.
  const doc = current ? { ...current } : blank(id);
  change(doc);
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
  await recountListed(ctx, 'stats', COUNTED_FIELDS, current, doc);
}

/** Adds a tag or campaign to the customer (once) and to `labels`. */
function label(ctx: ProjectionContext, event: RecordedEvent, id: string, kind: 'tag' | 'campaign', value: string): Promise<void> {
  const field = kind === 'tag' ? 'tags' : 'campaigns';
  const key = labelOf(kind, value);
  ctx.put<CustomerLabelDocument>('labels', { _id: `${key}|${id}`, label: key, customerId: id });
  return update(ctx, event, id, (doc) => {
    if (!doc[field].includes(value)) doc[field] = [...doc[field], value];
  });
}

async function count(ctx: ProjectionContext, id: string, change: (counters: CustomerCountersDocument) => void): Promise<void> {
  const current = await ctx.get<CustomerCountersDocument>('counters', id);
  const counters = current ? { ...current } : { _id: id, interactionCount: 0, lastInteractionAt: null, openDealCount: 0 };
  change(counters);
  ctx.put('counters', counters);
}

export const customersProjection = defineProjection({
  name: CUSTOMERS_PROJECTION,
  // 2: tags and campaigns (CustomerTagged, CustomerEnrolled), listed and filtered.
  // 3: archived customers (CustomerArchived, CustomerRestored), counted apart (`counts-archived`).
  // 4: reopened deals (DealReopened): open again, a reopened win out of the won totals; revenue in cents.
  //    Totals by pair of counted fields (a list filtered on two of them).
  version: 4,
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
      return update(ctx, event, d.customerId, (doc) => {
        doc.purchaseCount += 1;
        doc.purchaseAmount += d.amount;
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
      return update(ctx, event, d.customerId, (doc) => {
        doc.wonDealCount += 1;
        doc.wonDealAmount += d.amount;
      });
    },
    DealLost: (event, ctx) => count(ctx, event.data.customerId, (c) => void (c.openDealCount -= 1)),
    async DealReopened(event, ctx) {
      // A deal counts by its last close: the win it undoes (its amount is the one won) leaves the won totals.
      const d = event.data;
      await count(ctx, d.customerId, (c) => void (c.openDealCount += 1));
      if (d.outcome !== 'won') return;
      return update(ctx, event, d.customerId, (doc) => {
        doc.wonDealCount -= 1;
        doc.wonDealAmount -= d.amount;
      });
    },
  },
});
