import { createHash } from 'node:crypto';

const NAMESPACE = Buffer.from('6f1c2c5e7a1b4d7e9a0b3c4d5e6f7a8b', 'hex');

/**
 * A name-based UUID (RFC 4122 version 5). Event ids derived from an idempotency key or from the
 * triggering event make a retried append recognisable by the store, which then writes nothing.
 */
export function deterministicUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
