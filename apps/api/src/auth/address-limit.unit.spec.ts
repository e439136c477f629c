import { AddressLimiter, clientAddress } from './address-limit';

describe('clientAddress', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped IPv6, and groups IPv6 by /64', () => {
    expect(clientAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:0DB8:0001:0002:ffff::1%eth0')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddress('::1')).toBe('0:0:0:0::/64');
    expect(clientAddress(undefined)).toBe('unknown');
  });
});

describe('AddressLimiter', () => {
  let now = 1_000_000;
  const limiters: AddressLimiter[] = [];
  const make = (perMinute: number, maxAddresses?: number) => {
    const l = new AddressLimiter(perMinute, maxAddresses, () => now);
    limiters.push(l);
    return l;
  };
  afterAll(() => limiters.forEach((l) => l.close()));

  it('lets a burst of perMinute through, then asks to retry when a token is back; addresses are apart', () => {
    const limiter = make(6); // one token every 10 s
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBe(10);
    expect(limiter.take('b')).toBeUndefined();
    now += 4_000;
    expect(limiter.take('a')).toBe(6);
    now += 6_000;
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBe(10);
  });

  it('0 is no limit', () => {
    const limiter = make(0);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a')).toBeUndefined();
  });

  it('bounds its memory: past maxAddresses, new addresses share one bucket', () => {
    const limiter = make(2, 3);
    for (const address of ['a', 'b', 'c']) expect(limiter.take(address)).toBeUndefined();
    expect(limiter.take('d')).toBeUndefined();
    expect(limiter.take('e')).toBeUndefined();
    expect(limiter.take('f')).toBeGreaterThan(0); // d, e and f share the overflow bucket
    expect(limiter.take('a')).toBeUndefined(); // known addresses keep their own
    expect(limiter.size).toBe(4);
  });
});
