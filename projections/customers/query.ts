import { CustomerStatus, InvalidInput } from '@chronicle/domain';
import type { Filter, ReadCollection } from '@chronicle/read-store';
import { money } from '../common/numbers';
import { archivedParam, CountsDocument, listedTotal, oneOf, Page, pageWindow, parseSort, statusSorted, text } from '../common/listing';
import type { ReadModelAccess } from '../common/report';
import {
  COUNTED_FIELDS,
  CustomerCountersDocument,
  CustomerDocument,
  CustomerLabelDocument,
  CUSTOMERS_PROJECTION,
  labelOf,
  STATUS_SORT_FIELDS,
} from './projection';
import { searchIndexFor } from './search-index';

export const CUSTOMER_STATUSES: readonly CustomerStatus[] = ['prospect', 'active', 'churned'];
export const CUSTOMER_SORTS = ['name', '-name', 'registeredAt', '-registeredAt', 'revenue', '-revenue'] as const;
export type CustomerSort = (typeof CUSTOMER_SORTS)[number];
export const DEFAULT_CUSTOMER_SORT: CustomerSort = 'name';

/** The document's profile and lifecycle fields, as served. */
type CustomerProfile = Pick<
  CustomerDocument,
  | 'name'
  | 'email'
  | 'phone'
  | 'company'
  | 'industry'
  | 'region'
  | 'attributes'
  | 'source'
  | 'ownerId'
  | 'leadId'
  | 'status'
  | 'registeredAt'
  | 'acquiredAt'
  | 'churnedAt'
  | 'churnReason'
  | 'reactivatedAt'
  | 'tags'
  | 'campaigns'
  | 'archived'
  | 'archivedAt'
  | 'mergedInto'
  | 'mergedAt'
  | 'mergedIds'
>;

/**
 * What `GET /customers/:id` and the items of `GET /customers` return. A merged customer
 * (`mergedInto` set) is in no list; `GET` turns its view into a pointer (docs/merging.md).
 */
export interface CustomerView extends CustomerProfile {
  id: string;
  totals: {
    purchases: { count: number; amount: number };
    wonDeals: { count: number; amount: number };
    openDeals: number;
    /** Won deals + purchases. */
    revenue: number;
    interactions: number;
    lastInteractionAt: string | null;
  };
}

export interface ListCustomersParams {
  /** Case-insensitive substring of the name, email or company. */
  q?: string;
  status?: string;
  ownerId?: string;
  source?: string;
  region?: string;
  industry?: string;
  /** Customers carrying this tag (set by a rule). */
  tag?: string;
  /** Customers enrolled in this campaign. */
  campaign?: string;
  /** `true`: the archived customers only; default, the others (issue 16). */
  archived?: string | boolean;
  sort?: string;
  limit?: number;
  offset?: number;
}

const customers = (access: ReadModelAccess) => access.collection<CustomerDocument>(CUSTOMERS_PROJECTION, 'customers');
const labels = (access: ReadModelAccess) => access.collection<CustomerLabelDocument>(CUSTOMERS_PROJECTION, 'labels');
const counters = (access: ReadModelAccess) => access.collection<CustomerCountersDocument>(CUSTOMERS_PROJECTION, 'counters');

async function count(access: ReadModelAccess, collection: ReadCollection<CustomerDocument>, filter: Filter): Promise<number> {
  const stats = await access.collection<CountsDocument>(CUSTOMERS_PROJECTION, 'stats');
  // `stats` counts no merged customer: `mergedInto: null` is implied there.
  const { mergedInto: _, ...counted } = filter;
  return (await listedTotal(stats, counted, COUNTED_FIELDS)) ?? collection.count(filter);
}

export function toCustomerView(doc: CustomerDocument, counts: CustomerCountersDocument | null | undefined): CustomerView {
  return {
    id: doc._id,
    name: doc.name,
    email: doc.email,
    phone: doc.phone,
    company: doc.company,
    industry: doc.industry,
    region: doc.region,
    attributes: doc.attributes,
    source: doc.source,
    ownerId: doc.ownerId,
    leadId: doc.leadId,
    status: doc.status,
    registeredAt: doc.registeredAt,
    acquiredAt: doc.acquiredAt,
    churnedAt: doc.churnedAt,
    churnReason: doc.churnReason,
    reactivatedAt: doc.reactivatedAt,
    tags: doc.tags,
    campaigns: doc.campaigns,
    archived: doc.archived,
    archivedAt: doc.archivedAt,
    mergedInto: doc.mergedInto,
    mergedAt: doc.mergedAt,
    mergedIds: doc.mergedIds,
    totals: {
      purchases: { count: doc.purchaseCount, amount: money(doc.purchaseAmount) },
      wonDeals: { count: doc.wonDealCount, amount: money(doc.wonDealAmount) },
      openDeals: counts?.openDealCount ?? 0,
      revenue: money(doc.revenue),
      interactions: counts?.interactionCount ?? 0,
      lastInteractionAt: counts?.lastInteractionAt ?? null,
    },
  };
}

/** The customer's current profile, lifecycle and totals (a merged customer's own, with `mergedInto`); null when no such customer. */
export async function getCustomer(access: ReadModelAccess, id: string): Promise<CustomerView | null> {
  const doc = await (await customers(access)).findById(id);
  if (!doc) return null;
  return toCustomerView(doc, await (await counters(access)).findById(id));
}

const SORT_FIELD: Record<string, string> = { name: 'sortName', registeredAt: 'registeredAt', revenue: 'revenue' };

/** `q` becomes a regular expression matching the lower-cased text literally (fallback scan only). */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Beyond `maxMatches` customers matching `q`, the store scans instead of filtering an id list (SQLite allows 32,766 parameters). Tests lower it. */
export const searchLimits = { maxMatches: 16_384 };

/**
 * Lists customers. Filters (status, ownerId, source, region, industry) and every sort are on
 * indexed fields, so without `q` the page and the total come from the store's indexes (SQL in the
 * embedded store). `q` — a case-insensitive substring of name, email or company — cannot use an
 * index: it is matched against the customers' `search` texts held in memory (see
 * CustomerSearchIndex, kept exact by an indexed sync), and the matching ids (`_id $in`, the primary
 * key) go to the store with the other filters and the sort. A `q` matching more than 16,384
 * customers is instead a scan of the store (`$regex` on `search`).
 */
export async function listCustomers(access: ReadModelAccess, params: ListCustomersParams = {}): Promise<Page<CustomerView>> {
  const { limit, offset } = pageWindow(params);
  const status = oneOf('status', params.status, CUSTOMER_STATUSES);
  const sortParam = oneOf('sort', params.sort, CUSTOMER_SORTS) ?? DEFAULT_CUSTOMER_SORT;
  const filter: Filter = {};
  if (status) filter.status = status;
  filter.archived = archivedParam(params.archived);
  // A merged customer is listed nowhere, archived or not: its survivor stands for it.
  filter.mergedInto = null;
  for (const field of ['ownerId', 'source', 'region', 'industry'] as const) {
    const value = text(field, params[field]);
    if (value !== undefined) filter[field] = value;
  }
  const q = searchTerm(params.q);
  const { field: sortKey, direction } = parseSort(sortParam);
  const field = SORT_FIELD[sortKey];
  const sort: Record<string, 1 | -1> = { [field]: direction };
  const collection = await customers(access);
  let docs: CustomerDocument[];
  let total: number;
  // Too many matches for an id list (q or a tag/campaign filter): that filter becomes a scan.
  const searched = q === undefined ? undefined : (await searchIndexFor(access, collection)).match(q, searchLimits.maxMatches);
  if (searched === 'too-many') filter.search = { $regex: escapeRegex(q!) };
  const labelled = await labelledIds(access, params, filter);
  const matches = intersect(searched, labelled);
  if (matches?.length === 0) {
    [docs, total] = [[], 0];
  } else if (searched === 'too-many' || labelled === 'too-many') {
    if (matches) filter._id = { $in: matches };
    const all = await collection.find(filter, { sort });
    total = all.length;
    docs = all.slice(offset, offset + limit);
  } else {
    if (matches) filter._id = { $in: padded(matches) };
    const find = statusSorted(filter, status, field, direction, STATUS_SORT_FIELDS);
    [docs, total] = await Promise.all([
      collection.find(find.filter, { sort: find.sort, skip: offset, limit }),
      count(access, collection, filter),
    ]);
  }
  const counts = await (await counters(access)).findByIds(docs.map((d) => d._id));
  return { items: docs.map((d) => toCustomerView(d, counts.get(d._id))), total, limit, offset };
}

/**
 * The customers carrying `tag` and enrolled in `campaign` (those given), found by the `labels`
 * index; beyond `maxMatches`, the filter goes on the customers' own lists instead (a scan).
 */
async function labelledIds(access: ReadModelAccess, params: ListCustomersParams, filter: Filter): Promise<Matches> {
  let ids: Matches;
  for (const [kind, field] of [
    ['tag', 'tags'],
    ['campaign', 'campaigns'],
  ] as const) {
    const value = text(kind, params[kind]);
    if (value === undefined) continue;
    const found = (await (await labels(access)).find({ label: labelOf(kind, value) })).map((l) => l.customerId);
    if (found.length > searchLimits.maxMatches) filter[field] = value;
    ids = intersect(ids, found.length > searchLimits.maxMatches ? 'too-many' : found);
  }
  return ids;
}

/** Customer ids a filter allows: `undefined` for no such filter, 'too-many' for a filter applied by a scan instead. */
type Matches = string[] | 'too-many' | undefined;

/** The ids both allow; a filter applied by a scan leaves the other's list (or none). */
function intersect(a: Matches, b: Matches): string[] | undefined {
  if (a === undefined || a === 'too-many') return b === 'too-many' ? undefined : b;
  if (b === undefined || b === 'too-many') return a;
  const inB = new Set(b);
  return a.filter((id) => inB.has(id));
}

/**
 * The id list padded (repeating its last id) to a power of two: the embedded store caches one
 * prepared statement per distinct SQL text, so list lengths are kept to a few sizes.
 */
function padded(ids: string[]): string[] {
  let size = 1;
  while (size < ids.length) size *= 2;
  return size === ids.length ? ids : ids.concat(new Array<string>(size - ids.length).fill(ids[ids.length - 1]));
}

function searchTerm(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 200) throw new InvalidInput('q', 'must be a string of at most 200 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidInput('q', 'must not contain control characters');
  const q = value.trim().toLowerCase();
  return q === '' ? undefined : q;
}
