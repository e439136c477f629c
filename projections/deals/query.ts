import type { DealStatus } from '@chronicle/domain';
import type { Filter } from '@chronicle/read-store';
import { archivedParam, CountsDocument, listedTotal, oneOf, Page, pageWindow, parseSort, statusSorted, text } from '../common/listing';
import { customerFilter } from '../common/merges';
import type { ReadModelAccess } from '../common/report';
import { COUNTED_FIELDS, DealDocument, DEALS_PROJECTION, STATUS_SORT_FIELDS } from './projection';

export const DEAL_STATUSES: readonly DealStatus[] = ['open', 'won', 'lost'];
export const DEAL_SORTS = ['-openedAt', 'openedAt', '-amount', 'amount', 'expectedCloseDate', '-expectedCloseDate'] as const;
export type DealSort = (typeof DEAL_SORTS)[number];

/** A deal as `GET /deals/:id` and the items of `GET /deals` return it: the document without its index keys. */
export type DealView = Omit<DealDocument, '_id' | 'statusOpenedAt'> & { id: string };

export interface ListDealsParams {
  customerId?: string;
  ownerId?: string;
  /** A pipeline stage, or `won` / `lost`. */
  stage?: string;
  status?: string;
  /** `true`: the archived deals only; default, the others (issue 16). */
  archived?: string | boolean;
  sort?: string;
  limit?: number;
  offset?: number;
}

const deals = (access: ReadModelAccess) => access.collection<DealDocument>(DEALS_PROJECTION, 'deals');

export function toDealView(doc: DealDocument): DealView {
  const { _id, statusOpenedAt: _, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A deal's current state; null when no such deal. */
export async function getDeal(access: ReadModelAccess, id: string): Promise<DealView | null> {
  const doc = await (await deals(access)).findById(id);
  return doc ? toDealView(doc) : null;
}

/**
 * Deals filtered by customer (with the customers merged into it), owner, stage and status, newest
 * first by default. Every filter and sort is on an indexed field; a status filter with the default
 * sort is one range of a composite index.
 */
export async function listDeals(access: ReadModelAccess, params: ListDealsParams = {}): Promise<Page<DealView>> {
  const { limit, offset } = pageWindow(params);
  const filter: Filter = {};
  for (const field of ['customerId', 'ownerId', 'stage'] as const) {
    const value = text(field, params[field]);
    if (value !== undefined) filter[field] = field === 'customerId' ? await customerFilter(access, DEALS_PROJECTION, value) : value;
  }
  const status = oneOf('status', params.status, DEAL_STATUSES);
  if (status) filter.status = status;
  filter.archived = archivedParam(params.archived);
  const sortParam = oneOf('sort', params.sort, DEAL_SORTS) ?? '-openedAt';
  const collection = await deals(access);
  const { field, direction } = parseSort(sortParam);
  const find = statusSorted(filter, status, field, direction, STATUS_SORT_FIELDS);
  const stats = await access.collection<CountsDocument>(DEALS_PROJECTION, 'stats');
  const [docs, total] = await Promise.all([
    collection.find(find.filter, { sort: find.sort, skip: offset, limit }),
    listedTotal(stats, filter, COUNTED_FIELDS).then((n) => n ?? collection.count(filter)),
  ]);
  return { items: docs.map(toDealView), total, limit, offset };
}
