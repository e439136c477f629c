import { InvalidInput } from './errors';

/** Business time may lie in the past (imported history) but not more than this in the future. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** `YYYY-MM-DD`, or that followed by `THH:mm[:ss[.fff…]]` and an optional `Z` / `±HH:mm` offset. */
const isoPattern = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * Parses an ISO 8601 date or date-time to epoch milliseconds (NaN when it is not one). Unlike a
 * bare `Date.parse`, it rejects free text ("hello 1" would be 2001-01-01) and impossible dates
 * (2024-02-30), and reads a date-time without offset as UTC, never as the server's zone.
 */
export function parseIsoDateTime(value: string): number {
  const m = typeof value === 'string' ? isoPattern.exec(value) : null;
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, offset] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(y), month)) return Number.NaN;
  if (h === undefined) return Date.parse(`${y}-${mo}-${d}T00:00:00Z`);
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return Number.NaN;
  return Date.parse(`${value.slice(0, 10)}T${value.slice(11)}${offset === undefined ? 'Z' : ''}`);
}

/** Normalises a client's `occurredAt` (or now) to ISO 8601 UTC; `now` is passed in to keep this pure. */
export function resolveOccurredAt(occurredAt: string | undefined, now: Date): string {
  if (occurredAt === undefined) return now.toISOString();
  const ms = parseIsoDateTime(occurredAt);
  if (Number.isNaN(ms)) throw new InvalidInput('occurredAt', 'must be an ISO 8601 date-time');
  if (ms > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new InvalidInput('occurredAt', 'must not be more than 5 minutes in the future');
  }
  return new Date(ms).toISOString();
}
