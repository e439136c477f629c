import { signature } from '@chronicle/webhooks';
import { verifySignature } from './verify-signature';

describe("the receivers' signature check (examples/webhooks)", () => {
  const secret = 'whsec_0123456789abcdef';
  const body = '{"subscriptionId":"s","deliveryId":"d","events":[{"eventId":"e"}]}';
  const now = 1_700_000_000;

  it('accepts what Chronicle signs, as text or as the raw bytes', () => {
    const header = signature(secret, body, now);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, { nowSeconds: now })).toBe(true);
    expect(verifySignature(secret, header, Buffer.from(body), { nowSeconds: now + 299 })).toBe(true);
  });

  it('refuses another secret, a changed body, an old or future timestamp, and malformed headers', () => {
    const header = signature(secret, body, now);
    expect(verifySignature('whsec_other-secret-000', header, body, { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, header, body.replace('"e"', '"f"'), { nowSeconds: now })).toBe(false);
    expect(verifySignature(secret, header, body, { nowSeconds: now + 301 })).toBe(false);
    expect(verifySignature(secret, header, body, { nowSeconds: now - 301 })).toBe(false);
    // The timestamp is signed: moving it forward breaks the signature.
    expect(verifySignature(secret, header.replace('t=1700000000', 't=1700000100'), body, { nowSeconds: now + 100 })).toBe(false);
    for (const bad of [undefined, '', 'v1=abc', `t=${now}`, `t=${now},v1=zz`, `t=x,v1=${'0'.repeat(64)}`])
      expect(verifySignature(secret, bad, body, { nowSeconds: now })).toBe(false);
  });
});
