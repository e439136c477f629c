import { InvalidInput } from '@chronicle/domain';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../common/listing';
import type { ReadCollection } from '@chronicle/read-store';
import { MERGES, MergesDocument } from '../common/merges';
import type { ReadModelAccess } from '../common/report';
import { bucketOfKey, bucketOfSuffix, bucketPrefix, customerHash, SUFFIX_CHARS, suffixOfKey } from './keys';
import { kindOf, TIMELINE_PROJECTION, TimelineEntryDocument, TimelineKind, TimelineSpanDocument } from './projection';

export interface TimelineEntry {
  /** The event type, e.g. `InteractionLogged`, `DealStageChanged`, `CustomerChurned`. */
  type: string;
  kind: TimelineKind;
  occurredAt: string;
  /** Global position of the event (ties in occurredAt are ordered by it). */
  position: number;
  /** The stream the event belongs to (`customer-…` or `deal-…`): its audit trail. */
  streamId: string;
  actor: string;
  details: Record<string, unknown>;
}

export interface TimelinePage {
  customerId: string;
  items: TimelineEntry[];
  limit: number;
  /** Pass as `before` for the next (older) page; null when this page reaches the oldest entry. */
  nextCursor: string | null;
}

export interface TimelineParams {
  limit?: number;
  /** An opaque cursor from a previous page's `nextCursor`. */
  before?: string;
}

/** A cursor is the entry key's sortable part (time and position), base64url-encoded. */
const SUFFIX = new RegExp(`^[0-9a-z]{${SUFFIX_CHARS}}$`);
const encodeCursor = (suffix: string) => Buffer.from(suffix, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const suffix =
    typeof cursor === 'string' && /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!SUFFIX.test(suffix)) throw new InvalidInput('before', 'is not a cursor returned by a previous page (nextCursor)');
  return suffix;
}

/** The merged customer's own merge and unmerge entries: a survivor's timeline shows its own copies of them. */
const MERGE_TYPES = new Set(['CustomerMerged', 'CustomerUnmerged']);

/**
 * A customer's entries in one month, newest first, below `upper` (a full key) when given: at most
 * `need`. Loops only when another customer shares the hash and its entries fill a read (or, for a
 * merged customer's, its merge entries do).
 */
async function probe(
  entries: ReadCollection<TimelineEntryDocument>,
  customerId: string,
  prefix: string,
  upper: string,
  need: number,
  merged: boolean,
): Promise<TimelineEntryDocument[]> {
  const found: TimelineEntryDocument[] = [];
  for (;;) {
    const docs = await entries.find({ _id: { $gt: prefix, $lt: upper } }, { sort: { _id: -1 }, limit: need });
    for (const doc of docs)
      if (doc.customerId === customerId && found.length < need && !(merged && MERGE_TYPES.has(doc.type))) found.push(doc);
    if (found.length === need || docs.length < need) return found;
    upper = docs[docs.length - 1]._id;
  }
}

/**
 * One customer's newest `need` entries, below the cursor (`before`, a suffix) when given: range
 * scans, one per month (keys are month-first, see keys.ts), from the cursor's month (or `newest`,
 * the newest on record) back to the customer's first month, stopping once `need` are found. Months
 * are read a few at a time in parallel (round trips matter with MongoDB).
 */
async function newestEntries(
  entries: ReadCollection<TimelineEntryDocument>,
  customerId: string,
  firstMonth: number,
  newest: number,
  before: string | undefined,
  need: number,
  merged: boolean,
): Promise<TimelineEntryDocument[]> {
  const hash = customerHash(customerId);
  let month = before === undefined ? newest : Math.min(bucketOfSuffix(before), newest);
  const upperOf = (m: number) => {
    const prefix = bucketPrefix(m) + hash;
    // '~' sorts after every base-36 digit: [prefix, prefix~) is every key of this month and hash.
    return before !== undefined && m === bucketOfSuffix(before) ? prefix + before : `${prefix}~`;
  };
  const found: TimelineEntryDocument[] = [];
  // One month first (a busy customer's page is often in it), then wider rounds.
  for (let width = 1; month >= firstMonth && found.length < need; width = Math.min(width * 3, 12)) {
    const months = Array.from({ length: Math.min(width, month - firstMonth + 1) }, (_, i) => month - i);
    const rest = need - found.length;
    const results = await Promise.all(months.map((m) => probe(entries, customerId, bucketPrefix(m) + hash, upperOf(m), rest, merged)));
    for (const docs of results) for (const doc of docs) if (found.length < need) found.push(doc);
    month -= months.length;
  }
  return found;
}

/**
 * A customer's interactions, deals (opened, stage changes, won, lost, reopened), purchases and lifecycle
 * events, newest first (business time, then position), `limit` (default 50, at most 200) per
 * page. Cost depends on the page size and the months the customer spans, not on the length of the
 * history (see newestEntries). An unknown customer has an empty timeline.
 *
 * A survivor's timeline shows its merged customers' entries too (docs/merging.md), whenever recorded,
 * read from their own customers as listed in `merges`: each customer's newest entries below the
 * cursor, merged by key suffix (business time, then the global position: unique, so a cursor
 * keeps its place across customers as for one). After an unmerge the list no longer names the
 * customer, and its entries leave the survivor's timeline.
 */
export async function customerTimeline(access: ReadModelAccess, customerId: string, params: TimelineParams = {}): Promise<TimelinePage> {
  const limit = params.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new InvalidInput('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  const before = params.before === undefined ? undefined : decodeCursor(params.before);
  const [entries, spans, mergedCustomers] = await Promise.all([
    access.collection<TimelineEntryDocument>(TIMELINE_PROJECTION, 'entries'),
    access.collection<TimelineSpanDocument>(TIMELINE_PROJECTION, 'spans'),
    access.collection<MergesDocument>(TIMELINE_PROJECTION, MERGES),
  ]);
  // Each customer's first month and the newest month on record bound the probes.
  const [span, merged, [newest]] = await Promise.all([
    spans.findById(customerId),
    mergedCustomers.findById(customerId),
    entries.find({}, { sort: { _id: -1 }, limit: 1 }),
  ]);
  if (!newest) return { customerId, items: [], limit, nextCursor: null };
  const mergedIds = merged?.merged ?? [];
  // Another round trip only for a survivor.
  const members = [{ id: customerId, span }, ...(await Promise.all(mergedIds.map(async (id) => ({ id, span: await spans.findById(id) }))))];
  const lists = await Promise.all(
    members.map(({ id, span }, i) =>
      span ? newestEntries(entries, id, span.firstMonth, bucketOfKey(newest._id), before, limit + 1, i > 0) : Promise.resolve([]),
    ),
  );
  // Newest first across customers: descending suffixes (one customer's list is already in this order).
  const found =
    lists.length === 1
      ? lists[0]
      : lists
          .flat()
          .map((doc) => ({ doc, suffix: suffixOfKey(doc._id) }))
          .sort((a, b) => (a.suffix < b.suffix ? 1 : a.suffix > b.suffix ? -1 : 0))
          .slice(0, limit + 1)
          .map(({ doc }) => doc);
  const page = found.slice(0, limit);
  return {
    customerId,
    items: page.map((d) => ({
      type: d.type,
      kind: kindOf(d.type),
      occurredAt: d.occurredAt,
      position: d.position,
      streamId: d.streamId,
      actor: d.actor,
      details: d.details,
    })),
    limit,
    nextCursor: found.length > limit ? encodeCursor(suffixOfKey(page[page.length - 1]._id)) : null,
  };
}
