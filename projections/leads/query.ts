import type { LeadStatus } from '@chronicle/domain';
import type { Filter } from '@chronicle/read-store';
import { archivedParam, CountsDocument, listedTotal, oneOf, Page, pageWindow, parseSort, statusSorted, text } from '../common/listing';
import type { ReadModelAccess } from '../common/report';
import { COUNTED_FIELDS, LeadDocument, LEADS_PROJECTION, STATUS_SORT_FIELDS } from './projection';

export const LEAD_STATUSES: readonly LeadStatus[] = ['new', 'qualified', 'disqualified', 'converted'];
export const LEAD_SORTS = ['-capturedAt', 'capturedAt', '-score', 'score'] as const;
export type LeadSort = (typeof LEAD_SORTS)[number];

export type LeadView = Omit<LeadDocument, '_id' | 'statusCapturedAt'> & { id: string };

export interface ListLeadsParams {
  status?: string;
  source?: string;
  ownerId?: string;
  campaignId?: string;
  /** `true`: the archived leads only; default, the others (issue 16). */
  archived?: string | boolean;
  /** Default `-capturedAt` (newest first); `-score` puts unscored leads last. */
  sort?: string;
  limit?: number;
  offset?: number;
}

const leads = (access: ReadModelAccess) => access.collection<LeadDocument>(LEADS_PROJECTION, 'leads');

export function toLeadView(doc: LeadDocument): LeadView {
  const { _id, statusCapturedAt: _, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A lead's current state; null when no such lead. */
export async function getLead(access: ReadModelAccess, id: string): Promise<LeadView | null> {
  const doc = await (await leads(access)).findById(id);
  return doc ? toLeadView(doc) : null;
}

/**
 * Leads filtered by status, source, owner and campaign. Every filter and sort is on an indexed
 * field; a status filter with the default sort is one range of a composite index.
 */
export async function listLeads(access: ReadModelAccess, params: ListLeadsParams = {}): Promise<Page<LeadView>> {
  const { limit, offset } = pageWindow(params);
  const filter: Filter = {};
  const status = oneOf('status', params.status, LEAD_STATUSES);
  if (status) filter.status = status;
  for (const field of ['source', 'ownerId', 'campaignId'] as const) {
    const value = text(field, params[field]);
    if (value !== undefined) filter[field] = value;
  }
  filter.archived = archivedParam(params.archived);
  const sortParam = oneOf('sort', params.sort, LEAD_SORTS) ?? '-capturedAt';
  const collection = await leads(access);
  const { field, direction } = parseSort(sortParam);
  const find = statusSorted(filter, status, field, direction, STATUS_SORT_FIELDS);
  const stats = await access.collection<CountsDocument>(LEADS_PROJECTION, 'stats');
  const [docs, total] = await Promise.all([
    collection.find(find.filter, { sort: find.sort, skip: offset, limit }),
    listedTotal(stats, filter, COUNTED_FIELDS).then((n) => n ?? collection.count(filter)),
  ]);
  return { items: docs.map(toLeadView), total, limit, offset };
}
