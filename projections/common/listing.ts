import { InvalidInput } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import type { Filter, ReadCollection } from '@chronicle/read-store';

/** One page of a list query: the items, how many match in all, and the window that was asked for. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** `limit` (default 50, 1..200) and `offset` (default 0); anything else is a 400 naming the field. */
export function pageWindow(params: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const limit = params.limit ?? DEFAULT_LIMIT;
  const offset = params.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new InvalidInput('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidInput('offset', 'must be an integer ≥ 0');
  return { limit, offset };
}

/** A value that must be one of a fixed list (a status, a sort key), or absent. */
export function oneOf<T extends string>(field: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new InvalidInput(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** A free-text filter value (an id, a source…): non-empty, at most 200 characters. */
export function text(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw new InvalidInput(field, 'must be a non-empty string of at most 200 characters');
  return value;
}

/**
 * A sort parameter `field` or `-field` (descending). The store breaks ties by
 * `_id`, so pages are stable.
 */
export function parseSort(sort: string): { field: string; direction: 1 | -1 } {
  return sort.startsWith('-') ? { field: sort.slice(1), direction: -1 } : { field: sort, direction: 1 };
}

/** The one `compact` (libs/domain), re-exported for the projections that take it from here. */
export { compact } from '@chronicle/domain';

/**
 * Composite keys `<status>|<sort key>`. A status filter matches a large share of a collection;
 * combined with a sort on another field, a single-field index makes the store fetch every match
 * and sort them all (≈ 25 ms per 10,000 in the embedded store). A composite field makes "status
 * X sorted by Y" one index range read in order, stopping at the page. Each index costs every
 * write of the document, so lists have one, for their default sort. Statuses never contain '|';
 * absent sort values become '' (first ascending, like null).
 */
export const compositeKey = (status: string, sortKey: string | number | null): string =>
  `${status}|${sortKey === null ? '' : typeof sortKey === 'number' ? sortableNumber(sortKey) : sortKey}`;

/** Every composite key of `status` ('}' follows '|'). */
export const compositeRange = (status: string): { $gte: string; $lt: string } => ({ $gte: `${status}|`, $lt: `${status}}` });

const float = new DataView(new ArrayBuffer(8));

/** A finite number as 16 hex digits that sort as the numbers do (IEEE 754 bits, sign-adjusted). */
export function sortableNumber(n: number): string {
  float.setFloat64(0, n === 0 ? 0 : n); // -0 sorts as 0
  let high = float.getUint32(0);
  let low = float.getUint32(4);
  if (high >>> 31) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/**
 * The find for a list: with a status filter and a sort that has a composite field, the status
 * condition becomes a range on that field and the sort is on it (same order: the status part is
 * constant, ties still go to `_id`); otherwise the filter and a plain sort. Counts keep using the
 * plain filter (the status index).
 */
export function statusSorted(
  filter: Filter,
  status: string | undefined,
  sortField: string,
  direction: 1 | -1,
  composites: Readonly<Record<string, string>>,
): { filter: Filter; sort: Record<string, 1 | -1> } {
  const composite = status === undefined ? undefined : composites[sortField];
  if (composite === undefined) return { filter, sort: { [sortField]: direction } };
  const { status: _, ...rest } = filter;
  return { filter: { ...rest, [composite]: compositeRange(status!) }, sort: { [composite]: direction } };
}

/**
 * How many documents hold each value of a few fields, and each pair of values of two of them, in
 * one document per collection. The embedded store counts a filter on indexed fields by reading
 * every matching document (it checks the JSON type of each), ≈ 25 ms per 20,000; a list filtered
 * on one or two of these fields takes its total from here instead. Kept in the same commits as
 * the documents, so it is exactly as fresh.
 */
export type CountsDocument = {
  _id: string;
  total: number;
  by: Record<string, Record<string, number>>;
  /** By pair of fields (`a|b`, in the order of the counted fields): `JSON.stringify([va, vb])` → count. */
  pairs?: Record<string, Record<string, number>>;
};

/** The counts of the listed documents (`counts`) and of the archived ones (issue 16), which lists leave out by default. */
const LISTED_COUNTS = 'counts';
const ARCHIVED_COUNTS = 'counts-archived';

/** Moves a document's contribution to the counts (document `id`) from its previous to its new version (either may be absent). */
export async function recount<T extends Record<string, unknown>>(
  ctx: ProjectionContext,
  collection: string,
  fields: readonly (keyof T & string)[],
  before: T | null | undefined,
  after: T | null | undefined,
  id = LISTED_COUNTS,
): Promise<void> {
  const counts = (await ctx.get<CountsDocument>(collection, id)) ?? { _id: id, total: 0, by: {}, pairs: {} };
  let changed = false;
  const bump = (map: Record<string, number>, key: string, delta: number) => {
    map[key] = (map[key] ?? 0) + delta;
    if (map[key] === 0) delete map[key];
  };
  const add = (doc: T, delta: number) => {
    counts.total += delta;
    fields.forEach((field, i) => {
      bump((counts.by[field] ??= {}), JSON.stringify(doc[field] ?? null), delta);
      // A document counted before pairs were kept has none: its totals by pair come from the store.
      if (counts.pairs)
        for (const other of fields.slice(i + 1))
          bump((counts.pairs[`${field}|${other}`] ??= {}), JSON.stringify([doc[field] ?? null, doc[other] ?? null]), delta);
    });
    changed = true;
  };
  if (before && after) {
    if (fields.some((f) => before[f] !== after[f])) {
      add(before, -1);
      add(after, 1);
    }
  } else if (before) add(before, -1);
  else if (after) add(after, 1);
  if (changed) ctx.put(collection, counts);
}

/**
 * `recount` for a list with archived documents (`archived: true`, issue 16): the listed ones are
 * counted in `counts`, the archived ones in `counts-archived`, so archiving moves a document's
 * contribution from one to the other and either list's total stays an exact counted one.
 */
export async function recountListed<T extends Record<string, unknown> & { archived: boolean }>(
  ctx: ProjectionContext,
  collection: string,
  fields: readonly (keyof T & string)[],
  before: T | null | undefined,
  after: T | null | undefined,
): Promise<void> {
  const listed = (doc: T | null | undefined) => (doc && !doc.archived ? doc : null);
  const archived = (doc: T | null | undefined) => (doc && doc.archived ? doc : null);
  if (listed(before) || listed(after)) await recount(ctx, collection, fields, listed(before), listed(after));
  if (archived(before) || archived(after)) await recount(ctx, collection, fields, archived(before), archived(after), ARCHIVED_COUNTS);
}

/** `?archived=`: `true` lists only the archived documents; absent or `false`, only the others (issue 16). */
export function archivedParam(value: string | boolean | undefined): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new InvalidInput('archived', 'must be true or false');
}

/** The total for a filter on nothing or on one or two counted fields (equality to a string), else undefined. */
export async function countedTotal(
  counts: ReadCollection<CountsDocument>,
  filter: Filter,
  fields: readonly string[],
  id = LISTED_COUNTS,
): Promise<number | undefined> {
  const keys = Object.keys(filter);
  if (keys.length > 2 || keys.some((k) => !fields.includes(k) || typeof filter[k] !== 'string')) return undefined;
  const doc = await counts.findById(id);
  if (keys.length === 0) return doc?.total ?? 0;
  if (keys.length === 1) return doc?.by[keys[0]]?.[JSON.stringify(filter[keys[0]])] ?? 0;
  if (doc && !doc.pairs) return undefined;
  const [a, b] = [...keys].sort((x, y) => fields.indexOf(x) - fields.indexOf(y));
  return doc?.pairs?.[`${a}|${b}`]?.[JSON.stringify([filter[a], filter[b]])] ?? 0;
}

/** `countedTotal` for a list filter holding `archived` (a boolean): from the counts of the listed or of the archived documents. */
export function listedTotal(
  counts: ReadCollection<CountsDocument>,
  filter: Filter,
  fields: readonly string[],
): Promise<number | undefined> {
  const { archived, ...rest } = filter;
  return countedTotal(counts, rest, fields, archived === true ? ARCHIVED_COUNTS : LISTED_COUNTS);
}
