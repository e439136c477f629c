import { InvalidInput, parseIsoDateTime } from '@chronicle/domain';
import type { Filter } from '@chronicle/read-store';
import {
  compositeKey,
  compositeRange,
  CountsDocument,
  countedTotal,
  oneOf,
  Page,
  pageWindow,
  parseSort,
  statusSorted,
  text,
} from '../common/listing';
import { customerFilter } from '../common/merges';
import type { ReadModelAccess } from '../common/report';
import { COUNTED_FIELDS, STATUS_SORT_FIELDS, TaskDocument, TASKS_PROJECTION } from './projection';

export const TASK_STATUSES = ['open', 'completed', 'cancelled'] as const;
export const TASK_SORTS = ['dueAt', '-dueAt', 'createdAt', '-createdAt'] as const;
export type TaskSort = (typeof TASK_SORTS)[number];

export type TaskView = Omit<TaskDocument, '_id' | 'statusDueAt' | 'previousPersonal'> & { id: string };

export interface ListTasksParams {
  ownerId?: string;
  status?: string;
  customerId?: string;
  dealId?: string;
  /** ISO 8601: tasks due strictly before this instant. */
  dueBefore?: string;
  /** Default `dueAt` (soonest first). */
  sort?: string;
  limit?: number;
  offset?: number;
}

const tasks = (access: ReadModelAccess) => access.collection<TaskDocument>(TASKS_PROJECTION, 'tasks');

export function toTaskView(doc: TaskDocument): TaskView {
  const { _id, statusDueAt: _, previousPersonal: __, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A task; null when no such task. */
export async function getTask(access: ReadModelAccess, id: string): Promise<TaskView | null> {
  const doc = await (await tasks(access)).findById(id);
  return doc ? toTaskView(doc) : null;
}

/** Tasks by owner, status, customer (with the customers merged into it), deal and due time; soonest due first by default; all served by indexes. */
export async function listTasks(access: ReadModelAccess, params: ListTasksParams = {}): Promise<Page<TaskView>> {
  const { limit, offset } = pageWindow(params);
  const filter: Filter = {};
  for (const field of ['ownerId', 'customerId', 'dealId'] as const) {
    const value = text(field, params[field]);
    if (value !== undefined) filter[field] = field === 'customerId' ? await customerFilter(access, TASKS_PROJECTION, value) : value;
  }
  const status = oneOf('status', params.status, TASK_STATUSES);
  if (status) filter.status = status;
  let dueBefore: string | undefined;
  if (params.dueBefore !== undefined) {
    const ms = parseIsoDateTime(params.dueBefore);
    if (Number.isNaN(ms)) throw new InvalidInput('dueBefore', 'must be an ISO 8601 date-time');
    // dueAt is stored as normalised ISO UTC, so string order is time order.
    dueBefore = new Date(ms).toISOString();
    filter.dueAt = { $lt: dueBefore };
  }
  const sortParam = oneOf('sort', params.sort, TASK_SORTS) ?? 'dueAt';
  const collection = await tasks(access);
  const { field, direction } = parseSort(sortParam);
  const find = statusSorted(filter, status, field, direction, STATUS_SORT_FIELDS);
  if (status && find.filter.statusDueAt && dueBefore !== undefined) {
    // "due before" is then the upper end of the same range
    const { dueAt: _, ...rest } = find.filter;
    find.filter = { ...rest, statusDueAt: { $gte: compositeRange(status).$gte, $lt: compositeKey(status, dueBefore) } };
  }
  const stats = await access.collection<CountsDocument>(TASKS_PROJECTION, 'stats');
  const [docs, total] = await Promise.all([
    collection.find(find.filter, { sort: find.sort, skip: offset, limit }),
    countedTotal(stats, filter, COUNTED_FIELDS).then((n) => n ?? collection.count(filter)),
  ]);
  return { items: docs.map(toTaskView), total, limit, offset };
}
