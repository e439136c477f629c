import { ERASED } from '@chronicle/domain';

/**
 * How the duplicates projection compares personal fields (docs/personal-data.md, "Duplicates").
 * Each returns null for a value that cannot match anything: absent, empty, malformed, or erased
 * (a sealed field read after its key was destroyed opens as ERASED, and erased people must not
 * match each other).
 */

const usable = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '' && value !== ERASED;

/**
 * An email trimmed and lower-cased, with a `+tag` dropped from the local part
 * (`Ada.L+crm@Engines.io` → `ada.l@engines.io`). Dots are kept: only some providers ignore them.
 * Not an address (no `@`, or an empty side): null.
 */
export function normaliseEmail(value: unknown): string | null {
  if (!usable(value)) return null;
  const email = value.trim().toLowerCase();
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return null;
  const local = email.slice(0, at).replace(/\+.*$/, '');
  return local === '' ? null : `${local}@${email.slice(at + 1)}`;
}

/** Separators people write in phone numbers; a `(0)` trunk prefix after the country code is dropped too. */
const PHONE_SEPARATORS = /[\s\-./()\u00a0]/g;

/**
 * A phone number in E.164 when it says its country: `+` or `00` then 8 to 15 digits
 * (`0044 (0)20-7946 0000` → `+442079460000`). A number without a country code stays as the digits
 * given (`020 7946 0000` → `02079460000`, at least 6), so it matches the same national number only,
 * never its international form: which country it belongs to is not known. Anything else (letters,
 * an extension, too few or too many digits): null.
 */
export function normalisePhone(value: unknown): string | null {
  if (!usable(value)) return null;
  let phone = value.trim();
  const international = phone.startsWith('+') || phone.startsWith('00');
  phone = international ? phone.replace(/^(\+|00)/, '').replace(/\(0\)/g, '') : phone;
  const digits = phone.replace(PHONE_SEPARATORS, '');
  if (!/^\d+$/.test(digits)) return null;
  if (international) return digits.length >= 8 && digits.length <= 15 && !digits.startsWith('0') ? `+${digits}` : null;
  return digits.length >= 6 && digits.length <= 15 ? digits : null;
}

/**
 * A name or company as compared: compatibility-decomposed (NFKD) with the accents dropped,
 * lower-cased, every run of punctuation and white space one space (`  Zoë  O'Brien ` →
 * `zoe o brien`). Nothing left: null.
 */
export function normaliseName(value: unknown): string | null {
  if (!usable(value)) return null;
  const name = value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return name === '' ? null : name;
}
