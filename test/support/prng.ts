/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * fast-check options that replay a reported failure: `FUZZ_SEED=<seed> FUZZ_PATH=<path>` as printed
 * in the failure's `{ seed, path }` (with the same FUZZ_RUNS and the same event store).
 */
export function fuzzReplay(): { seed?: number; path?: string } {
  const seed = process.env.FUZZ_SEED;
  return seed === undefined ? {} : { seed: Number(seed), ...(process.env.FUZZ_PATH && { path: process.env.FUZZ_PATH }) };
}
