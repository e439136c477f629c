/**
 * A Bloom filter of document ids per collection: "certainly never written" or "maybe". For a
 * collection the projector fills from empty, an id the filter has never seen is absent from the
 * store, so a replay skips the store lookup its first touch of every new document would cost.
 * 2^25 bits (4 MiB) and 7 probes: about 0.2 % false positives at 2.5 million ids, 5 % at 5
 * million; a false positive only costs the lookup that would have happened anyway.
 */
export class IdFilter {
  private readonly words: Uint32Array;
  private readonly mask: number;

  constructor(
    bits = 2 ** 25,
    private readonly probes = 7,
  ) {
    this.words = new Uint32Array(bits >>> 5);
    this.mask = bits - 1;
  }

  /** A seed per collection, so that equal ids of two collections set different bits. */
  static seedOf(collection: string): number {
    return fnv1a(collection, 0x811c9dc5);
  }

  add(seed: number, id: string): void {
    const h1 = fnv1a(id, seed);
    const h2 = djb2(id, seed) | 1;
    for (let i = 0, h = h1; i < this.probes; i++, h = (h + h2) | 0) {
      const bit = h & this.mask;
      this.words[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  mightHave(seed: number, id: string): boolean {
    const h1 = fnv1a(id, seed);
    const h2 = djb2(id, seed) | 1;
    for (let i = 0, h = h1; i < this.probes; i++, h = (h + h2) | 0) {
      const bit = h & this.mask;
      if ((this.words[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

// Shifts and adds rather than Math.imul (slow under Jest's sandbox; see customer-timeline/keys.ts).
function fnv1a(text: string, seed: number): number {
  let a = seed | 0;
  for (let i = 0; i < text.length; i++) {
    a ^= text.charCodeAt(i);
    a = (a + (a << 1) + (a << 4) + (a << 7) + (a << 8) + (a << 24)) | 0;
  }
  return a >>> 0;
}

function djb2(text: string, seed: number): number {
  let b = (5381 ^ seed) | 0;
  for (let i = 0; i < text.length; i++) b = (((b << 5) + b) | 0) ^ text.charCodeAt(i);
  return b >>> 0;
}
