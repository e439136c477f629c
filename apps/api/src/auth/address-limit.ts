/**
 * The client a request without a valid key is counted against: its IPv4 address, or the /64 prefix
 * of its IPv6 address (one host commonly holds a whole /64, so single IPv6 addresses cost an
 * attacker nothing).
 */
export function clientAddress(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const address = ip.replace(/%.*$/, ''); // zone id
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16).toString(16) : g))
    .join(':')}::/64`;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client address for requests without a valid API key: `perMinute` tokens,
 * refilled continuously. Memory is bounded: full buckets are forgotten every minute, and past
 * `maxAddresses` new addresses share one bucket (a flood from very many addresses is then limited
 * as a whole, and keyed clients are never affected).
 */
export class AddressLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    readonly perMinute: number,
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
    this.sweep = setInterval(() => this.evictFull(), 60_000).unref();
  }

  /** Takes a token for `address`: undefined when there was one, else the seconds until there is. */
  take(address: string): number | undefined {
    if (this.perMinute === 0) return undefined;
    const now = this.now();
    const key = this.buckets.has(address) || this.buckets.size < this.maxAddresses ? address : '*';
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.perMinute, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private evictFull(): void {
    const now = this.now();
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
  }
}
