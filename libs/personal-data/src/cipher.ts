import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM with a fresh 96-bit IV per message; the subject is the additional authenticated
 * data, so a sealed value moved to another subject's event does not open. The text form is
 * `v1.<base64url(iv ‖ tag ‖ ciphertext)>`: versioned so the scheme can change later.
 */
const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export const newDataKey = (): Buffer => randomBytes(KEY_BYTES);

export function seal(key: Buffer, subject: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(subject));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return VERSION + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Throws when the value was not sealed with this key for this subject (or was altered). */
export function open(key: Buffer, subject: string, sealed: string): string {
  if (!sealed.startsWith(VERSION)) throw new Error(`unknown sealing scheme "${sealed.slice(0, 8)}"`);
  const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(subject));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
