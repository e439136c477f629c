/**
 * Opening the personal fields of Chronicle's Kafka messages. Customers' and leads' name, email,
 * phone and attributes, and the free text written about them (interactions, purchases, tasks),
 * travel sealed in `data.sealed` (AES-256-GCM under the person's own key);
 * a consumer that needs them fetches the key from `GET /personal-data/keys/:subject` with a
 * `service` API key. After an erasure that endpoint answers 410 and the fields open as
 * "[erased]" — also in messages received long before. Keep keys in memory only, briefly.
 *
 * A copy of the server's scheme (libs/personal-data/src/cipher.ts), so that a consumer depends
 * on nothing internal; the format is versioned (`v1.`) and pinned by the integration test.
 */
import { createDecipheriv } from 'node:crypto';

export const ERASED = '[erased]';

export interface SealedFields {
  subject: string;
  fields: string[];
  data: string;
}

/** A subject's key, or 'erased'. */
export type KeyFetcher = (subject: string) => Promise<Buffer | 'erased'>;

/** Fetches keys from the Chronicle API, keeping each for `ttlMs` (an erasure takes effect after at most that long). */
export function httpKeyFetcher(baseUrl: string, apiKey: string, ttlMs = 60_000): KeyFetcher {
  const cache = new Map<string, { key: Buffer | 'erased'; until: number }>();
  return async (subject) => {
    const hit = cache.get(subject);
    if (hit && hit.until > Date.now()) return hit.key;
    const res = await fetch(`${baseUrl}/personal-data/keys/${encodeURIComponent(subject)}`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    let key: Buffer | 'erased';
    if (res.status === 410) key = 'erased';
    else if (res.ok) key = Buffer.from(((await res.json()) as { key: string }).key, 'base64url');
    else throw new Error(`key of ${subject}: HTTP ${res.status}`);
    cache.set(subject, { key, until: key === 'erased' ? Number.POSITIVE_INFINITY : Date.now() + ttlMs });
    return key;
  };
}

function open(key: Buffer, subject: string, sealed: string): string {
  if (!sealed.startsWith('v1.')) throw new Error(`unknown sealing scheme "${sealed.slice(0, 8)}"`);
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(subject));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** An event's `data` with its personal fields opened (or erased); data without sealed fields as it is. */
export async function openPersonalData(data: unknown, fetchKey: KeyFetcher): Promise<Record<string, unknown>> {
  const d = data as Record<string, unknown> & { sealed?: SealedFields };
  if (!d || typeof d.sealed?.data !== 'string') return d;
  const { sealed, ...rest } = d;
  const key = await fetchKey(sealed.subject);
  if (key !== 'erased') return { ...rest, ...(JSON.parse(open(key, sealed.subject, sealed.data)) as Record<string, unknown>) };
  return { ...rest, ...Object.fromEntries(sealed.fields.filter((f) => f !== 'attributes').map((f) => [f, ERASED])) };
}
