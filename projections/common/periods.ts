import { DAY_MS } from './numbers';

/**
 * Report time (docs/reports.md): UTC; a period list runs from `from` (inclusive, truncated to the start
 * of its interval) to `to` (exclusive). Every period is a whole interval [start, next start): the
 * last one starts before `to` and may end after it. Weeks are ISO weeks (Monday).
 */
export const Intervals = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type Interval = (typeof Intervals)[number];

export function truncate(ms: number, interval: Interval): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (interval) {
    case 'day':
      return Date.UTC(y, m, d.getUTCDate());
    case 'week': {
      const day = Date.UTC(y, m, d.getUTCDate());
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      return day - sinceMonday * DAY_MS;
    }
    case 'month':
      return Date.UTC(y, m, 1);
    case 'quarter':
      return Date.UTC(y, m - (m % 3), 1);
    case 'year':
      return Date.UTC(y, 0, 1);
  }
}

export function next(start: number, interval: Interval): number {
  const d = new Date(start);
  switch (interval) {
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case 'quarter':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1);
    case 'year':
      return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
  }
}

export interface Period {
  start: string;
  end: string;
  startMs: number;
  endMs: number;
}

/**
 * The periods of [from, to); at most `max` of them. Requests are held to far fewer where they come
 * in (the API's MAX_PERIODS); the default only bounds internal callers, such as a goal's daily
 * periods over up to ten years.
 */
export function periods(from: string | number, to: string | number, interval: Interval, max = 50_000): Period[] {
  const fromMs = typeof from === 'number' ? from : Date.parse(from);
  const toMs = typeof to === 'number' ? to : Date.parse(to);
  const list: Period[] = [];
  for (let start = truncate(fromMs, interval); start < toMs; start = next(start, interval)) {
    if (list.length >= max) throw new RangeError(`more than ${max} ${interval} periods between from and to`);
    const end = next(start, interval);
    list.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), startMs: start, endMs: end });
  }
  return list;
}

/** Index of the period containing `ms`, or -1. Periods are contiguous and sorted. */
export function periodIndex(list: Period[], ms: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ms < list[mid].startMs) hi = mid - 1;
    else if (ms >= list[mid].endMs) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The UTC day (YYYY-MM-DD) of an instant: reports keep daily buckets, and every period boundary is a day boundary. */
export const dayOf = (iso: string | number): string => new Date(typeof iso === 'number' ? iso : Date.parse(iso)).toISOString().slice(0, 10);

/** The range a series of periods covers: from the start of the first to the end of the last (null when there is none). */
export function rangeOf(list: ReadonlyArray<{ start: string; end: string }>): { start: string | null; end: string | null } {
  return { start: list[0]?.start ?? null, end: list[list.length - 1]?.end ?? null };
}
