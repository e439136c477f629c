import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifies a Chronicle webhook delivery (docs/webhooks.md) before trusting it. Copy this function
 * into your receiver: it needs nothing but node:crypto.
 *
 * `header` is the `Chronicle-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC
 * computed with your subscription's secret over `<t>.<raw body>`. Verify the raw body exactly as
 * received (before any JSON parsing), compare in constant time, and refuse old timestamps so that
 * a recorded delivery cannot be played back later.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
