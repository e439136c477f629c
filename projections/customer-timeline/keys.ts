/**
 * Timeline entry keys: `<month><customer hash><time><position>`, fixed widths, base 36.
 *
 * - month (3 chars): the UTC month of the business time. Entries mostly arrive in time order, so
 *   putting the month first keeps one replay page's inserts within the current month's part of
 *   the key index instead of all over it: at 900,000 entries this made inserts 3× cheaper than a
 *   customer-first key. The price is that a query probes one key range per month.
 * - customer hash (10 chars): the customer's range within a month. A hash, not the id, to keep
 *   keys short (their index is what the inserts pay for); two customers sharing a hash share a
 *   range, and the query drops the other's entries (they carry the customer id).
 * - time (9 chars) and position (8 chars): newest first is descending key order, ties in business
 *   time ordered by global position. This part (the suffix) is what a cursor carries.
 */
export const BUCKET_CHARS = 3;
export const HASH_CHARS = 10;
const TIME_CHARS = 9;
const POSITION_CHARS = 8;
export const SUFFIX_CHARS = TIME_CHARS + POSITION_CHARS;
/** Milliseconds from year 1 to 1970: every AD time becomes a non-negative offset. */
const EPOCH_OFFSET = 62_135_596_800_000;
const MAX_TIME = 36 ** TIME_CHARS - 1;

const base36 = (n: number, width: number): string => n.toString(36).padStart(width, '0');

/**
 * 50 bits of two string hashes (32-bit FNV-1a and djb2-xor) of the customer id, as 10 base-36
 * digits. Shifts and adds rather than Math.imul, which is slow under Jest's sandbox.
 */
export function customerHash(customerId: string): string {
  let a = 0x811c9dc5 | 0;
  let b = 5381;
  for (let i = 0; i < customerId.length; i++) {
    const c = customerId.charCodeAt(i);
    a ^= c;
    a = (a + (a << 1) + (a << 4) + (a << 7) + (a << 8) + (a << 24)) | 0;
    b = (((b << 5) + b) | 0) ^ c;
  }
  // Two 25-bit halves: small integers format fast, and 36^5 > 2^25 keeps each at 5 digits.
  const high = (a >>> 7) & 0x1ffffff;
  const low = ((a & 0x7f) << 18) | (b & 0x3ffff);
  return base36(high, 5) + base36(low, 5);
}

/** The key's time: milliseconds since year 1 (occurredAt is validated ISO 8601 on the write side). */
function timeOf(occurredAt: string): number {
  const ms = Date.parse(occurredAt);
  return Number.isNaN(ms) ? 0 : Math.min(Math.max(ms + EPOCH_OFFSET, 0), MAX_TIME);
}

/** Months since year 0 of a key time. */
function monthOf(time: number): number {
  const d = new Date(time - EPOCH_OFFSET);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

export const bucketPrefix = (month: number): string => base36(month, BUCKET_CHARS);
export const bucketOfKey = (key: string): number => parseInt(key.slice(0, BUCKET_CHARS), 36);
/** The month of a suffix (as a cursor carries it). */
export const bucketOfSuffix = (suffix: string): number => monthOf(parseInt(suffix.slice(0, TIME_CHARS), 36));

export function entryKey(customerId: string, occurredAt: string, position: number): string {
  return entryOf(customerId, occurredAt, position).key;
}

/** An entry's key and month (bucket), parsing the time once: a replay makes a million of these. */
export function entryOf(customerId: string, occurredAt: string, position: number): { key: string; month: number } {
  const time = timeOf(occurredAt);
  const month = monthOf(time);
  return { key: bucketPrefix(month) + customerHash(customerId) + base36(time, TIME_CHARS) + base36(position, POSITION_CHARS), month };
}

/** The month (bucket) of a business time. */
export const bucketOf = (occurredAt: string): number => monthOf(timeOf(occurredAt));

/** The part of a key after month and hash: time and position. */
export const suffixOfKey = (key: string): string => key.slice(BUCKET_CHARS + HASH_CHARS);
