import { InvalidInput } from '@chronicle/domain';
import { pageWindow } from '../common/listing';
import type { ReadModelAccess } from '../common/report';
import { DUPLICATES_PROJECTION, DuplicateReason, PairDocument } from './projection';

/** One candidate pair: the two customer ids (sorted), why they match, and how strongly (0–1). */
export interface DuplicatePair {
  customers: [string, string];
  reasons: DuplicateReason[];
  score: number;
}

export interface DuplicatesPage {
  items: DuplicatePair[];
  limit: number;
  /** Pass as `after` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface DuplicatesParams {
  limit?: number;
  /** An opaque cursor from a previous page's `nextCursor`. */
  after?: string;
}

const ORDER = /^\d{3}\|[^|]+\|[^|]+$/;
const encodeCursor = (order: string) => Buffer.from(order, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const order = /^[A-Za-z0-9_-]{1,600}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!ORDER.test(order)) throw new InvalidInput('after', 'is not a cursor returned by a previous page (nextCursor)');
  return order;
}

/** Candidate duplicate customers, the strongest first (then by ids), a page at a time. */
export async function listDuplicates(access: ReadModelAccess, params: DuplicatesParams = {}): Promise<DuplicatesPage> {
  const { limit } = pageWindow({ limit: params.limit });
  const after = params.after === undefined ? undefined : decodeCursor(params.after);
  const pairs = await access.collection<PairDocument>(DUPLICATES_PROJECTION, 'pairs');
  const docs = await pairs.find(after === undefined ? {} : { order: { $gt: after } }, { sort: { order: 1 }, limit: limit + 1 });
  const page = docs.slice(0, limit);
  return {
    items: page.map((d) => ({ customers: [d.customers[0], d.customers[1]], reasons: [...d.reasons], score: d.score / 100 })),
    limit,
    nextCursor: docs.length > limit ? encodeCursor(page[page.length - 1].order) : null,
  };
}
