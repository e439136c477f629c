import { createHmac } from 'node:crypto';

/**
 * `Chronicle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
 * The timestamp is signed with the body, so a receiver that refuses old timestamps also refuses a
 * recorded delivery played again later. `v1` names the scheme: a new one would be added beside
 * it, so receivers can move over without a flag day. Receivers verify with
 * examples/webhooks/verify-signature.ts.
 */
export const SIGNATURE_HEADER = 'chronicle-signature';

export function signature(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}
