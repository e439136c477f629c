import { newDataKey, open, seal } from './cipher';

describe('seal / open (AES-256-GCM)', () => {
  const key = newDataKey();

  it('opens what it sealed, and seals the same text differently each time (fresh IV)', () => {
    const a = seal(key, 'customer-1', '{"email":"ada@example.com"}');
    const b = seal(key, 'customer-1', '{"email":"ada@example.com"}');
    expect(a).not.toEqual(b);
    expect(a.startsWith('v1.')).toBe(true);
    expect(a).not.toContain('ada');
    expect(open(key, 'customer-1', a)).toBe('{"email":"ada@example.com"}');
    expect(open(key, 'customer-1', b)).toBe('{"email":"ada@example.com"}');
  });

  it('refuses another key, another subject (the AAD) and any altered byte', () => {
    const sealed = seal(key, 'customer-1', 'secret');
    expect(() => open(newDataKey(), 'customer-1', sealed)).toThrow();
    expect(() => open(key, 'customer-2', sealed)).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(() => open(key, 'customer-1', `v1.${raw.toString('base64url')}`)).toThrow();
    expect(() => open(key, 'customer-1', `v9.${sealed.slice(3)}`)).toThrow(/unknown sealing scheme/);
  });
});
